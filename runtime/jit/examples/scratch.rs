use std::time::Instant;
fn main() {
    let n = 4_000_000usize;
    for _ in 0..3 {
        let t = Instant::now();
        let mut v = vec![0i64; n];
        for (i, x) in v.iter_mut().enumerate() {
            *x = i as i64;
        }
        std::hint::black_box(&v);
        eprintln!("alloc+write {:?}", t.elapsed());
        let t = Instant::now();
        for (i, x) in v.iter_mut().enumerate() {
            *x = i as i64 + 1;
        }
        std::hint::black_box(&v);
        eprintln!("rewrite {:?}", t.elapsed());
    }
}
