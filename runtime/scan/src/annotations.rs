//! Corner annotations.
//!
//! The LayoutNet / HorizonNet corner file: one `x y` pair per line, in image pixels,
//! ceiling and floor corners alternating (the ceiling corner of a wall corner, then its
//! floor corner), wall corners in order around the room. Blank lines are skipped.

use crate::ScanError;

/// The ceiling and floor pixel of one wall corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CornerPair {
    pub ceiling: (f64, f64),
    pub floor: (f64, f64),
}

/// Reads a HorizonNet corner file's text; `file` names it in errors.
pub fn horizonnet(file: &str, text: &str) -> Result<Vec<CornerPair>, ScanError> {
    let mut points: Vec<((f64, f64), usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 2 {
            return Err(ScanError::new(
                file,
                Some(n),
                format!("expected `x y`, found {} fields: `{line}`", fields.len()),
            ));
        }
        let mut xy = [0.0; 2];
        for (slot, field) in xy.iter_mut().zip(&fields) {
            let v: f64 = field
                .parse()
                .map_err(|_| ScanError::new(file, Some(n), format!("`{field}` is not a number")))?;
            if !v.is_finite() {
                return Err(ScanError::new(
                    file,
                    Some(n),
                    format!("`{field}` is not a finite coordinate"),
                ));
            }
            *slot = v;
        }
        points.push(((xy[0], xy[1]), n));
    }
    if points.len() % 2 == 1 {
        let (_, last) = points[points.len() - 1];
        return Err(ScanError::new(
            file,
            Some(last),
            format!(
                "{} corners do not pair: ceiling and floor corners alternate, so the count is even",
                points.len()
            ),
        ));
    }
    if points.len() < 6 {
        return Err(ScanError::new(
            file,
            None,
            format!(
                "a room needs at least 3 wall corners (6 lines); this file has {}",
                points.len()
            ),
        ));
    }
    let mut pairs = Vec::with_capacity(points.len() / 2);
    for chunk in points.chunks(2) {
        let (ceiling, line) = chunk[0];
        let (floor, _) = chunk[1];
        if ceiling.1 >= floor.1 {
            return Err(ScanError::new(
                file,
                Some(line),
                "a ceiling corner must lie above its floor corner (a smaller row)",
            ));
        }
        pairs.push(CornerPair { ceiling, floor });
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_and_names_the_line_of_each_problem() {
        let ok = horizonnet(
            "a.txt",
            "10 100\n10 400\n\n300 110\n300 390\n600 120\n600 380\n",
        )
        .expect("three corners");
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[1].floor, (300.0, 390.0));
        let odd = horizonnet(
            "a.txt",
            "10 100\n10 400\n300 110\n300 390\n600 120\n600 380\n700 1\n",
        )
        .expect_err("odd");
        assert_eq!(odd.line, Some(7));
        let nan = horizonnet("a.txt", "10 100\n10 NaN\n").expect_err("nan");
        assert_eq!((nan.line, nan.message.contains("finite")), (Some(2), true));
        let word = horizonnet("a.txt", "10 ten\n").expect_err("word");
        assert_eq!(word.to_string(), "a.txt:1: `ten` is not a number");
        let few = horizonnet("a.txt", "10 100\n10 400\n").expect_err("few");
        assert!(few.message.contains("at least 3"), "{few}");
        let upside = horizonnet(
            "a.txt",
            "10 400\n10 100\n300 110\n300 390\n600 120\n600 380\n",
        )
        .expect_err("upside down");
        assert_eq!(upside.line, Some(1));
    }
}
