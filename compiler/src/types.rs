//! Types and units of expressions.

use std::fmt;

/// A unit of a number: powers of currency and count, or a ratio.
///
/// `currency / count` (an average order value) is `{currency: 1, count: -1}`; a
/// quotient of equal units is a ratio, which is not additive.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Unit {
    pub currency: i8,
    pub count: i8,
    pub ratio: bool,
    /// `CNY` in `currency(CNY)`; `None` when not stated.
    pub code: Option<String>,
}

impl Unit {
    pub fn none() -> Unit {
        Unit::default()
    }
    pub fn currency(code: Option<String>) -> Unit {
        Unit {
            currency: 1,
            code,
            ..Unit::default()
        }
    }
    pub fn count() -> Unit {
        Unit {
            count: 1,
            ..Unit::default()
        }
    }
    pub fn ratio() -> Unit {
        Unit {
            ratio: true,
            ..Unit::default()
        }
    }

    pub fn is_none(&self) -> bool {
        self.currency == 0 && self.count == 0 && !self.ratio
    }

    /// Same dimension (currency codes must agree when both are stated).
    pub fn compatible(&self, other: &Unit) -> bool {
        self.currency == other.currency
            && self.count == other.count
            && self.ratio == other.ratio
            && (self.code.is_none() || other.code.is_none() || self.code == other.code)
    }

    pub fn mul(&self, other: &Unit) -> Unit {
        let u = Unit {
            currency: self.currency + other.currency,
            count: self.count + other.count,
            ratio: self.ratio || other.ratio,
            code: self.code.clone().or_else(|| other.code.clone()),
        };
        u.normalized()
    }

    pub fn div(&self, other: &Unit) -> Unit {
        let same = !self.is_none() && self.compatible(other);
        let u = Unit {
            currency: self.currency - other.currency,
            count: self.count - other.count,
            ratio: self.ratio || other.ratio || same,
            code: self.code.clone().or_else(|| other.code.clone()),
        };
        u.normalized()
    }

    fn normalized(mut self) -> Unit {
        if self.currency == 0 {
            self.code = None;
        }
        self
    }

    /// Whether a name whose root promises `kind` may measure this unit. The promise is
    /// about what is measured, not what it is divided by: `amt` (currency) fits an
    /// amount per order (currency/count) as well as an amount.
    pub fn keeps_promise(&self, kind: &str) -> bool {
        match kind {
            "currency" => self.currency == 1 && self.count <= 0,
            "count" => self.currency <= 0 && self.count == 1,
            other => self.kind_name() == Some(other),
        }
    }

    /// The kind a glossary root names (`currency`, `count`, `ratio`).
    pub fn kind_name(&self) -> Option<&'static str> {
        match (self.currency, self.count, self.ratio) {
            (0, 0, true) => Some("ratio"),
            (1, 0, false) => Some("currency"),
            (0, 1, false) => Some("count"),
            _ => None,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut num = Vec::new();
        let mut den = Vec::new();
        let cur = match &self.code {
            Some(code) => format!("currency({code})"),
            None => "currency".to_string(),
        };
        for (name, power) in [(cur, self.currency), ("count".to_string(), self.count)] {
            let part = if power.abs() == 1 {
                name
            } else {
                format!("{name}^{}", power.abs())
            };
            match power.signum() {
                1 => num.push(part),
                -1 => den.push(part),
                _ => {}
            }
        }
        let mut s = if num.is_empty() {
            String::new()
        } else {
            num.join("·")
        };
        if !den.is_empty() {
            if s.is_empty() {
                s.push('1');
            }
            s.push('/');
            s.push_str(&den.join("·"));
        }
        if self.ratio {
            if s.is_empty() {
                s = "ratio".to_string();
            } else {
                s = format!("ratio of {s}");
            }
        }
        if s.is_empty() {
            s = "no unit".to_string();
        }
        f.write_str(&s)
    }
}

/// The type of an expression.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Ty {
    Number(Unit),
    String,
    Bool,
    Date,
    Timestamp,
    Duration,
    Distance,
    Angle,
    /// A tag whose values are declared: the tag's name.
    Enum(String),
    /// The state of an AIPL model (its name).
    Stage(String),
    /// The segment of an RFM model (its name).
    Segment(String),
    /// A source or fact used as a table (inside aggregates).
    Table(String),
    /// A dimension as a whole (`nearest(store)`).
    Dimension(String),
    /// One row of a dimension (`nearest(store)`), with attributes as fields.
    Row(String),
    /// Scan inputs, layout methods and outputs.
    Capture,
    Layout,
    Output,
    Location,
    Null,
    /// Already reported, or not knowable: never reported again.
    Unknown,
}

impl Ty {
    pub fn is_unknown(&self) -> bool {
        matches!(self, Ty::Unknown)
    }

    /// A scalar that can be stored in a column.
    pub fn is_value(&self) -> bool {
        !matches!(
            self,
            Ty::Table(_)
                | Ty::Dimension(_)
                | Ty::Row(_)
                | Ty::Capture
                | Ty::Layout
                | Ty::Output
                | Ty::Location
        )
    }

    pub fn is_stringlike(&self) -> bool {
        matches!(self, Ty::String | Ty::Enum(_))
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Number(u) if u.is_none() => write!(f, "number"),
            Ty::Number(u) => write!(f, "number ({u})"),
            Ty::String => write!(f, "string"),
            Ty::Bool => write!(f, "bool"),
            Ty::Date => write!(f, "date"),
            Ty::Timestamp => write!(f, "timestamp"),
            Ty::Duration => write!(f, "duration"),
            Ty::Distance => write!(f, "distance"),
            Ty::Angle => write!(f, "angle"),
            Ty::Enum(t) => write!(f, "value of tag `{t}`"),
            Ty::Stage(m) => write!(f, "AIPL stage of `{m}`"),
            Ty::Segment(m) => write!(f, "RFM segment of `{m}`"),
            Ty::Table(t) => write!(f, "table `{t}`"),
            Ty::Dimension(d) => write!(f, "dimension `{d}`"),
            Ty::Row(d) => write!(f, "row of `{d}`"),
            Ty::Capture => write!(f, "scan capture"),
            Ty::Layout => write!(f, "layout method"),
            Ty::Output => write!(f, "scan output"),
            Ty::Location => write!(f, "data location"),
            Ty::Null => write!(f, "null"),
            Ty::Unknown => write!(f, "unknown"),
        }
    }
}

/// The type of a declared column: its SQL type and unit.
pub fn column_type(ty: &str, unit: Option<(&str, Option<&str>)>) -> Option<Ty> {
    let base = match ty {
        "string" | "text" => Ty::String,
        "int" | "bigint" | "smallint" | "float" | "double" | "decimal" => Ty::Number(Unit::none()),
        "bool" | "boolean" => Ty::Bool,
        "date" => Ty::Date,
        "timestamp" => Ty::Timestamp,
        _ => return None,
    };
    Some(match (base, unit) {
        (Ty::Number(_), Some((kind, code))) => match unit_kind(kind, code) {
            Some(UnitKind::Number(u)) => Ty::Number(u),
            Some(UnitKind::Distance) => Ty::Distance,
            Some(UnitKind::Duration) => Ty::Duration,
            None => Ty::Number(Unit::none()),
        },
        (base, _) => base,
    })
}

pub enum UnitKind {
    Number(Unit),
    Distance,
    Duration,
}

/// The units a column or root may declare.
pub const UNIT_KINDS: &[&str] = &["currency", "count", "ratio", "km", "m", "days", "hours"];

pub fn unit_kind(kind: &str, code: Option<&str>) -> Option<UnitKind> {
    // Only currencies take an argument: an ISO 4217 code such as CNY.
    let iso = |c: &str| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase());
    match (kind, code) {
        ("currency", Some(c)) if !iso(c) => return None,
        ("currency", _) | (_, None) => {}
        _ => return None,
    }
    Some(match kind {
        "currency" => UnitKind::Number(Unit::currency(code.map(str::to_string))),
        "count" => UnitKind::Number(Unit::count()),
        "ratio" => UnitKind::Number(Unit::ratio()),
        "km" | "m" => UnitKind::Distance,
        "days" | "hours" => UnitKind::Duration,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_units() {
        let aov = Unit::currency(Some("CNY".into())).div(&Unit::count());
        assert_eq!(aov.to_string(), "currency(CNY)/count");
        let share = Unit::currency(None).div(&Unit::currency(None));
        assert_eq!(share.to_string(), "ratio");
        assert!(
            !Unit::currency(Some("CNY".into())).compatible(&Unit::currency(Some("USD".into())))
        );
        assert!(!Unit::currency(None).compatible(&Unit::count()));
    }
}
