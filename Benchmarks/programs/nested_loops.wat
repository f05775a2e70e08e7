;; Hand-written: nested counted loops with i64 arithmetic and local.tee chains.
(module
  (func (export "run") (result i32)
    (local $i i32) (local $j i32) (local $x i64) (local $y i64)
    (local.set $x (i64.const 1))
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $y (i64.add (local.tee $x (i64.mul (local.get $x) (i64.const 6364136223846793005)))
                               (i64.extend_i32_u (local.get $j))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $y) (i64.const 29))))
        (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 1000))))
      (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20000))))
    (i32.wrap_i64 (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 32))))))
