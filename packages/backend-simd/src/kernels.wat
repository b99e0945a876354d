;; The backend's two hot loops as WebAssembly SIMD (f32x4), hand-written so a decode step pays no
;; runtime's per-operator dispatch. Both read row-major float32 matrices from linear memory:
;;   matvec  y (rows) = W (rows, cols) · x (cols), optionally added to y — the LM head and attention
;;           scores (a head's cached keys times its query);
;;   matvecT y (cols) += Wᵀ · x (rows) — every weight stored transposed (in, out) in the pack, and
;;           attention's probability-weighted sum of cached values.
;; Four rows per pass, so one load of x (matvec) or one load and store of y (matvecT) serves four
;; rows. Lengths need not be multiples of 4 (scalar tails). Also the two loops that need e^x,
;; attention's softmax and the MLP's silu(gate)·up (WebAssembly has no exp: $exp below), computed
;; in f64 and stored as f32. scripts/assemble-kernels.ts turns this file into src/kernels-wasm.ts.
(module
  (memory (export "memory") 1)

  ;; y[r] = (accumulate ? y[r] : 0) + sum_c w[r*cols + c] * x[c]
  (func $matvec (export "matvec") (param $w i32) (param $x i32) (param $y i32) (param $rows i32) (param $cols i32) (param $accumulate i32)
    (local $r i32) (local $c i32) (local $stride i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $xv v128) (local $xs f32)
    (local $s0 f32) (local $s1 f32) (local $s2 f32) (local $s3 f32) (local $vecEnd i32) (local $yp i32)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $cols) (i32.const -4)))
    (block $rowsDone
      (loop $rowBlocks
        (br_if $rowsDone (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $rows)))
        (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $w1 (i32.add (local.get $w0) (local.get $stride)))
        (local.set $w2 (i32.add (local.get $w1) (local.get $stride)))
        (local.set $w3 (i32.add (local.get $w2) (local.get $stride)))
        (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $c (i32.const 0))
        (block $colsDone
          (loop $cols4
            (br_if $colsDone (i32.ge_u (local.get $c) (local.get $vecEnd)))
            (local.set $xv (v128.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2)))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (i32.add (local.get $w0) (i32.shl (local.get $c) (i32.const 2)))) (local.get $xv))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load (i32.add (local.get $w1) (i32.shl (local.get $c) (i32.const 2)))) (local.get $xv))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load (i32.add (local.get $w2) (i32.shl (local.get $c) (i32.const 2)))) (local.get $xv))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load (i32.add (local.get $w3) (i32.shl (local.get $c) (i32.const 2)))) (local.get $xv))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cols4)))
        (local.set $s0 (call $sum4 (local.get $a0))) (local.set $s1 (call $sum4 (local.get $a1)))
        (local.set $s2 (call $sum4 (local.get $a2))) (local.set $s3 (call $sum4 (local.get $a3)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $xs (f32.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2)))))
            (local.set $s0 (f32.add (local.get $s0) (f32.mul (f32.load (i32.add (local.get $w0) (i32.shl (local.get $c) (i32.const 2)))) (local.get $xs))))
            (local.set $s1 (f32.add (local.get $s1) (f32.mul (f32.load (i32.add (local.get $w1) (i32.shl (local.get $c) (i32.const 2)))) (local.get $xs))))
            (local.set $s2 (f32.add (local.get $s2) (f32.mul (f32.load (i32.add (local.get $w2) (i32.shl (local.get $c) (i32.const 2)))) (local.get $xs))))
            (local.set $s3 (f32.add (local.get $s3) (f32.mul (f32.load (i32.add (local.get $w3) (i32.shl (local.get $c) (i32.const 2)))) (local.get $xs))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail)))
        (local.set $yp (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 2))))
        (if (local.get $accumulate)
          (then
            (local.set $s0 (f32.add (local.get $s0) (f32.load (local.get $yp))))
            (local.set $s1 (f32.add (local.get $s1) (f32.load offset=4 (local.get $yp))))
            (local.set $s2 (f32.add (local.get $s2) (f32.load offset=8 (local.get $yp))))
            (local.set $s3 (f32.add (local.get $s3) (f32.load offset=12 (local.get $yp))))))
        (f32.store (local.get $yp) (local.get $s0))
        (f32.store offset=4 (local.get $yp) (local.get $s1))
        (f32.store offset=8 (local.get $yp) (local.get $s2))
        (f32.store offset=12 (local.get $yp) (local.get $s3))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rowBlocks)))
    ;; the last rows % 4, one at a time
    (block $restDone
      (loop $rest
        (br_if $restDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $c (i32.const 0))
        (block $colsDone1
          (loop $cols1
            (br_if $colsDone1 (i32.ge_u (local.get $c) (local.get $vecEnd)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul
              (v128.load (i32.add (local.get $w0) (i32.shl (local.get $c) (i32.const 2))))
              (v128.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cols1)))
        (local.set $s0 (call $sum4 (local.get $a0)))
        (block $tailDone1
          (loop $tail1
            (br_if $tailDone1 (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $s0 (f32.add (local.get $s0) (f32.mul
              (f32.load (i32.add (local.get $w0) (i32.shl (local.get $c) (i32.const 2))))
              (f32.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail1)))
        (local.set $yp (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 2))))
        (if (local.get $accumulate) (then (local.set $s0 (f32.add (local.get $s0) (f32.load (local.get $yp))))))
        (f32.store (local.get $yp) (local.get $s0))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rest))))

  (func $sum4 (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; y[c] += sum_r x[r] * w[r*cols + c]   (w row-major (rows, cols); y accumulates)
  (func $matvecT (export "matvecT") (param $w i32) (param $x i32) (param $y i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $c i32) (local $stride i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $yp i32) (local $off i32) (local $vecEnd i32)
    (local $f0 f32) (local $f1 f32) (local $f2 f32) (local $f3 f32)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $cols) (i32.const -4)))
    (block $rowsDone
      (loop $rowBlocks
        (br_if $rowsDone (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $rows)))
        (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $w1 (i32.add (local.get $w0) (local.get $stride)))
        (local.set $w2 (i32.add (local.get $w1) (local.get $stride)))
        (local.set $w3 (i32.add (local.get $w2) (local.get $stride)))
        (local.set $f0 (f32.load (i32.add (local.get $x) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $f1 (f32.load offset=4 (i32.add (local.get $x) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $f2 (f32.load offset=8 (i32.add (local.get $x) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $f3 (f32.load offset=12 (i32.add (local.get $x) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $x0 (f32x4.splat (local.get $f0))) (local.set $x1 (f32x4.splat (local.get $f1)))
        (local.set $x2 (f32x4.splat (local.get $f2))) (local.set $x3 (f32x4.splat (local.get $f3)))
        (local.set $c (i32.const 0))
        (block $colsDone
          (loop $cols4
            (br_if $colsDone (i32.ge_u (local.get $c) (local.get $vecEnd)))
            (local.set $off (i32.shl (local.get $c) (i32.const 2)))
            (local.set $yp (i32.add (local.get $y) (local.get $off)))
            (v128.store (local.get $yp)
              (f32x4.add (v128.load (local.get $yp))
                (f32x4.add
                  (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $w0) (local.get $off))) (local.get $x0))
                             (f32x4.mul (v128.load (i32.add (local.get $w1) (local.get $off))) (local.get $x1)))
                  (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $w2) (local.get $off))) (local.get $x2))
                             (f32x4.mul (v128.load (i32.add (local.get $w3) (local.get $off))) (local.get $x3))))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cols4)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $off (i32.shl (local.get $c) (i32.const 2)))
            (local.set $yp (i32.add (local.get $y) (local.get $off)))
            (f32.store (local.get $yp)
              (f32.add (f32.load (local.get $yp))
                (f32.add
                  (f32.add (f32.mul (f32.load (i32.add (local.get $w0) (local.get $off))) (local.get $f0))
                           (f32.mul (f32.load (i32.add (local.get $w1) (local.get $off))) (local.get $f1)))
                  (f32.add (f32.mul (f32.load (i32.add (local.get $w2) (local.get $off))) (local.get $f2))
                           (f32.mul (f32.load (i32.add (local.get $w3) (local.get $off))) (local.get $f3))))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rowBlocks)))
    (block $restDone
      (loop $rest
        (br_if $restDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $f0 (f32.load (i32.add (local.get $x) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $x0 (f32x4.splat (local.get $f0)))
        (local.set $c (i32.const 0))
        (block $colsDone1
          (loop $cols1
            (br_if $colsDone1 (i32.ge_u (local.get $c) (local.get $vecEnd)))
            (local.set $off (i32.shl (local.get $c) (i32.const 2)))
            (local.set $yp (i32.add (local.get $y) (local.get $off)))
            (v128.store (local.get $yp) (f32x4.add (v128.load (local.get $yp)) (f32x4.mul (v128.load (i32.add (local.get $w0) (local.get $off))) (local.get $x0))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cols1)))
        (block $tailDone1
          (loop $tail1
            (br_if $tailDone1 (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $off (i32.shl (local.get $c) (i32.const 2)))
            (local.set $yp (i32.add (local.get $y) (local.get $off)))
            (f32.store (local.get $yp) (f32.add (f32.load (local.get $yp)) (f32.mul (f32.load (i32.add (local.get $w0) (local.get $off))) (local.get $f0))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rest))))
  ;; e^x for f64 x, to about 1e-15 relative: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-11
  ;; Taylor polynomial (Horner), times 2^n built from the exponent bits. Inputs below −708 give 0.
  (func $exp (param $x f64) (result f64)
    (local $n f64) (local $r f64) (local $p f64)
    (if (f64.lt (local.get $x) (f64.const -708)) (then (return (f64.const 0))))
    (if (f64.gt (local.get $x) (f64.const 709)) (then (return (f64.const inf))))
    (local.set $n (f64.nearest (f64.mul (local.get $x) (f64.const 1.4426950408889634))))
    (local.set $r (f64.sub (f64.sub (local.get $x) (f64.mul (local.get $n) (f64.const 0.6931471803691238)))
                           (f64.mul (local.get $n) (f64.const 1.9082149292705877e-10))))
    (local.set $p (f64.const 2.505210838544172e-8))
    (local.set $p (f64.add (f64.const 2.755731922398589e-7) (f64.mul (local.get $p) (local.get $r))))
    (local.set $p (f64.add (f64.const 2.7557319223985893e-6) (f64.mul (local.get $p) (local.get $r))))
    (local.set $p (f64.add (f64.const 2.48015873015873e-5) (f64.mul (local.get $p) (local.get $r))))
    (local.set $p (f64.add (f64.const 1.984126984126984e-4) (f64.mul (local.get $p) (local.get $r))))
    (local.set $p (f64.add (f64.const 1.388888888888889e-3) (f64.mul (local.get $p) (local.get $r))))
    (local.set $p (f64.add (f64.const 8.333333333333333e-3) (f64.mul (local.get $p) (local.get $r))))
    (local.set $p (f64.add (f64.const 4.1666666666666664e-2) (f64.mul (local.get $p) (local.get $r))))
    (local.set $p (f64.add (f64.const 0.16666666666666666) (f64.mul (local.get $p) (local.get $r))))
    (local.set $p (f64.add (f64.const 0.5) (f64.mul (local.get $p) (local.get $r))))
    (local.set $p (f64.add (f64.const 1) (f64.mul (local.get $p) (local.get $r))))
    (local.set $p (f64.add (f64.const 1) (f64.mul (local.get $p) (local.get $r))))
    (f64.mul (local.get $p)
      (f64.reinterpret_i64 (i64.shl (i64.add (i64.trunc_f64_s (local.get $n)) (i64.const 1023)) (i64.const 52)))))

  ;; s (n) ← softmax(s · scale) in place
  (func $softmax (export "softmax") (param $s i32) (param $n i32) (param $scale f32)
    (local $i i32) (local $p i32) (local $max f32) (local $v f32) (local $sum f64) (local $e f32) (local $inverse f32)
    (local.set $max (f32.const -inf))
    (local.set $p (local.get $s))
    (local.set $i (i32.const 0))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $v (f32.mul (f32.load (local.get $p)) (local.get $scale)))
      (f32.store (local.get $p) (local.get $v))
      (local.set $max (f32.max (local.get $max) (local.get $v)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l1)))
    (local.set $p (local.get $s))
    (local.set $i (i32.const 0))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $e (f32.demote_f64 (call $exp (f64.promote_f32 (f32.sub (f32.load (local.get $p)) (local.get $max))))))
      (f32.store (local.get $p) (local.get $e))
      (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (local.get $e))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l2)))
    (local.set $inverse (f32.demote_f64 (f64.div (f64.const 1) (local.get $sum))))
    (local.set $p (local.get $s))
    (local.set $i (i32.const 0))
    (block $d3 (loop $l3
      (br_if $d3 (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (local.get $p) (f32.mul (f32.load (local.get $p)) (local.get $inverse)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l3))))

  ;; out (n) ← silu(gate) · up = gate / (1 + e^−gate) · up
  (func $siluMul (export "siluMul") (param $gate i32) (param $up i32) (param $out i32) (param $n i32)
    (local $i i32) (local $g f64) (local $offset i32)
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
      (local.set $g (f64.promote_f32 (f32.load (i32.add (local.get $gate) (local.get $offset)))))
      (f32.store (i32.add (local.get $out) (local.get $offset))
        (f32.mul
          (f32.demote_f64 (f64.div (local.get $g) (f64.add (f64.const 1) (call $exp (f64.neg (local.get $g))))))
          (f32.load (i32.add (local.get $up) (local.get $offset)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $each))))
)
