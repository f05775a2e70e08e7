;; The README's C example's module (Tests/capi/readme_example.c).
(module
  (import "host" "log" (func $log (param i32)))
  (func (export "add") (param i32 i32) (result i32)
    (call $log (local.get 0))
    (i32.add (local.get 0) (local.get 1))))
