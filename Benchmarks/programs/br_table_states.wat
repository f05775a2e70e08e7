;; Hand-written: a state machine driven by br_table (a lexer-like dispatch loop).
(module
  (func (export "run") (result i32)
    (local $state i32) (local $i i32) (local $acc i32)
    (loop $next
      (block $s3 (block $s2 (block $s1 (block $s0
        (br_table $s0 $s1 $s2 $s3 (local.get $state)))
        ;; state 0
        (local.set $acc (i32.add (local.get $acc) (local.get $i)))
        (local.set $state (i32.and (i32.add (local.get $i) (i32.const 1)) (i32.const 3)))
        (br $s3))
        ;; state 1
        (local.set $acc (i32.xor (local.get $acc) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $state (i32.const 2))
        (br $s3))
        ;; state 2
        (local.set $acc (i32.sub (local.get $acc) (i32.const 7)))
        (local.set $state (i32.rem_u (local.get $acc) (i32.const 4))))
      ;; every state ends here
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 20000000))))
    (local.get $acc)))
