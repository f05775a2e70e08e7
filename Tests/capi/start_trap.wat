;; A module whose start function traps (Tests/capi/capi_test.c).
(module
  (func $start (call $fail))
  (func $fail unreachable)
  (start $start))
