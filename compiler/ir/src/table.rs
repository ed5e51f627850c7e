//! A table's identity: its layer and name, and every form of it that the compiler and
//! the runtime use — the node id, the name plans scan it by, its partition folder — in
//! one place.

use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A table mj builds: `dwd.pay_order`, `ads.consumer_tags`, `oneid.consumer`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Table {
    /// `ods`, `oneid`, `dim`, `dwd`, `dws`, `ads`, `check`, `export`, `scan`.
    pub layer: String,
    pub name: String,
}

impl Table {
    pub fn new(layer: &str, name: &str) -> Table {
        Table {
            layer: layer.to_string(),
            name: name.to_string(),
        }
    }

    /// The table of a node id, `layer.name` (the name may hold dots of its own).
    pub fn parse(id: &str) -> Option<Table> {
        let (layer, name) = id.split_once('.')?;
        (!layer.is_empty() && !name.is_empty()).then(|| Table::new(layer, name))
    }

    /// The name plans scan it by: `dwd_pay_order`; a name that already starts with its
    /// layer keeps it once (`dws.dws_consumer` is scanned as `dws_consumer`).
    pub fn scan_name(&self) -> String {
        match self.name.strip_prefix(&self.layer) {
            Some(rest) if rest.starts_with('_') => self.name.clone(),
            _ => format!("{}_{}", self.layer, self.name),
        }
    }

    /// Its partition of business date `date`, relative to the output folder:
    /// `dwd/pay_order/dt=2025-06-30`.
    pub fn partition(&self, date: &str) -> PathBuf {
        PathBuf::from(&self.layer)
            .join(&self.name)
            .join(format!("dt={date}"))
    }
}

/// The node id: `layer.name`.
impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.layer, self.name)
    }
}

impl Serialize for Table {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Table {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Table, D::Error> {
        let id = String::deserialize(d)?;
        Table::parse(&id).ok_or_else(|| serde::de::Error::custom(format!("not a table id: {id:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_identity_in_every_form() {
        let t = Table::parse("dwd.pay_order").expect("a table");
        assert_eq!(t, Table::new("dwd", "pay_order"));
        assert_eq!(t.to_string(), "dwd.pay_order");
        assert_eq!(t.scan_name(), "dwd_pay_order");
        assert_eq!(
            Table::new("dws", "dws_consumer").scan_name(),
            "dws_consumer"
        );
        assert_eq!(
            Table::new("ads", "consumer_tags").scan_name(),
            "ads_consumer_tags"
        );
        assert_eq!(
            t.partition("2025-06-30"),
            PathBuf::from("dwd/pay_order/dt=2025-06-30")
        );
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"dwd.pay_order\"");
        assert_eq!(
            serde_json::from_str::<Table>("\"dwd.pay_order\"").unwrap(),
            t
        );
        assert!(Table::parse("pay_order").is_none());
        assert!(serde_json::from_str::<Table>("\"nodot\"").is_err());
    }
}
