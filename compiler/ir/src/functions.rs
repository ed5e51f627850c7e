//! The registry of the language's functions: every aggregate and built-in function
//! `stdlib/std.mj` declares, as an enum the checker, the lowering and the planner match
//! on — never their names as strings. A test (`tests/suite/layers.rs`) keeps this table
//! and the standard library equal, and plans every function a row expression may call,
//! so the checker cannot accept what the planner rejects at run time.

use serde::{Deserialize, Serialize};

macro_rules! registry {
    ($(#[$doc:meta])* $ty:ident { $( $(#[$vdoc:meta])* $variant:ident = $name:literal, )+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $ty { $( $(#[$vdoc])* $variant, )+ }

        impl $ty {
            /// Every one, in the order the standard library declares them.
            pub const ALL: &[$ty] = &[ $( $ty::$variant, )+ ];

            /// Its name in the language.
            pub fn name(self) -> &'static str {
                match self { $( $ty::$variant => $name, )+ }
            }

            /// The one named `name`, if any.
            pub fn from_name(name: &str) -> Option<$ty> {
                match name { $( $name => Some($ty::$variant), )+ _ => None }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

registry! {
    /// An aggregate: many rows to one value.
    Aggregate {
        Sum = "sum",
        Count = "count",
        CountDistinct = "count_distinct",
        Avg = "avg",
        Min = "min",
        Max = "max",
        Median = "median",
        /// The sample standard deviation, as SQL's `stddev`.
        Stddev = "stddev",
        Latest = "latest",
        First = "first",
        Top = "top",
        Exists = "exists",
    }
}

impl Aggregate {
    /// Picks one value per entity over a window (`latest`, `first`, `top`, `exists`):
    /// for tags, AIPL stages and audiences, not for atomic metrics, which aggregate the
    /// rows of a business process.
    pub fn windowed(self) -> bool {
        matches!(
            self,
            Aggregate::Latest | Aggregate::First | Aggregate::Top | Aggregate::Exists
        )
    }

    /// The aggregates an atomic metric may use.
    pub fn of_rows() -> impl Iterator<Item = Aggregate> {
        Aggregate::ALL.iter().copied().filter(|a| !a.windowed())
    }
}

registry! {
    /// A built-in function of one row's or one entity's values.
    Builtin {
        Bucket = "bucket",
        DaysSince = "days_since",
        Distance = "distance",
        Nearest = "nearest",
        Sha256 = "sha256",
        Md5 = "md5",
        Plain = "plain",
        Lower = "lower",
        Upper = "upper",
        Length = "length",
        Date = "date",
        Now = "now",
    }
}

impl Builtin {
    /// Whether a row expression — a fact's measures, dimensions and filter, a
    /// modifier, an atomic metric's argument — may call it. The others are for
    /// entity-level expressions (tags, AIPL, RFM, audiences) or exports.
    pub fn in_rows(self) -> bool {
        matches!(
            self,
            Builtin::Lower | Builtin::Upper | Builtin::Length | Builtin::Date
        )
    }

    /// The functions a row expression may call.
    pub fn of_rows() -> impl Iterator<Item = Builtin> {
        Builtin::ALL.iter().copied().filter(|b| b.in_rows())
    }
}
