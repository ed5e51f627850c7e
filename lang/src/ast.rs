//! The typed syntax tree of a `.mj` file.
//!
//! Nodes own plain [`Span`]s (file id + byte range), never pest's borrowed spans, so a
//! tree can outlive the text it came from and be stored in the compiler's database.
//! The tree keeps what was written, not what it means: resolution and checks live in
//! the compiler.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Identifies a source file within a project. The compiler assigns them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct FileId(pub u32);

impl FileId {
    /// Not a file: spans relative to the start of the item they are in. The compiler
    /// checks each item on its own text (so an edit elsewhere does not re-check it) and
    /// moves such spans to the item's place in its file afterwards.
    pub const ITEM: FileId = FileId(u32::MAX);
}

impl fmt::Debug for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A byte range in one file.
///
/// Spans serialize to nothing and deserialize to the empty span: a serde round trip of
/// a tree gives the same tree without positions, which the compiler compares to tell
/// whether an edit changed an item's meaning or only moved it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Span, D::Error> {
        <()>::deserialize(deserializer)?;
        Ok(Span::default())
    }
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn contains(self, offset: usize) -> bool {
        (self.start as usize) <= offset && offset <= self.end as usize
    }
}

/// Spans print as `@start..end` so that tests can strip them from `Debug` output
/// and compare trees by structure alone.
impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}..{}", self.start, self.end)
    }
}

/// A name as written, with its span.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Ident {
    pub text: String,
    pub span: Span,
}

impl Ident {
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// A string literal: `value` has escapes resolved.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// A comment, kept so that the formatter can put it back.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Module {
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ItemKind {
    Glossary(Glossary),
    Naming(Naming),
    Source(Source),
    Dimension(Dimension),
    Fact(Fact),
    Atomic(Atomic),
    Modifier(Modifier),
    Period(Period),
    Derived(Derived),
    Composite(Composite),
    Check(Check),
    OneId(OneId),
    Tag(Tag),
    Aipl(Aipl),
    Rfm(Rfm),
    Audience(Audience),
    Compare(Compare),
    Route(Route),
    Export(Export),
    Scan(Scan),
    Dashboard(Dashboard),
    Function(Function),
}

impl ItemKind {
    /// The keyword that starts the item.
    pub fn keyword(&self) -> &'static str {
        match self {
            ItemKind::Glossary(_) => "glossary",
            ItemKind::Naming(_) => "naming",
            ItemKind::Source(_) => "source",
            ItemKind::Dimension(_) => "dimension",
            ItemKind::Fact(_) => "fact",
            ItemKind::Atomic(_) => "atomic",
            ItemKind::Modifier(_) => "modifier",
            ItemKind::Period(_) => "period",
            ItemKind::Derived(_) => "derived",
            ItemKind::Composite(_) => "composite",
            ItemKind::Check(_) => "check",
            ItemKind::OneId(_) => "oneid",
            ItemKind::Tag(_) => "tag",
            ItemKind::Aipl(_) => "aipl",
            ItemKind::Rfm(_) => "rfm",
            ItemKind::Audience(_) => "audience",
            ItemKind::Compare(_) => "compare",
            ItemKind::Route(_) => "route",
            ItemKind::Export(_) => "export",
            ItemKind::Scan(_) => "scan",
            ItemKind::Dashboard(_) => "dashboard",
            ItemKind::Function(_) => "fn",
        }
    }

    /// The name and display name of a named item.
    pub fn header(&self) -> Option<&Header> {
        Some(match self {
            ItemKind::Source(x) => &x.header,
            ItemKind::Dimension(x) => &x.header,
            ItemKind::Fact(x) => &x.header,
            ItemKind::Atomic(x) => &x.header,
            ItemKind::Modifier(x) => &x.header,
            ItemKind::Period(x) => &x.header,
            ItemKind::Derived(x) => &x.header,
            ItemKind::Composite(x) => &x.header,
            ItemKind::OneId(x) => &x.header,
            ItemKind::Tag(x) => &x.header,
            ItemKind::Aipl(x) => &x.header,
            ItemKind::Rfm(x) => &x.header,
            ItemKind::Audience(x) => &x.header,
            ItemKind::Scan(x) => &x.header,
            ItemKind::Dashboard(x) => &x.header,
            ItemKind::Function(x) => &x.header,
            ItemKind::Glossary(_)
            | ItemKind::Naming(_)
            | ItemKind::Check(_)
            | ItemKind::Compare(_)
            | ItemKind::Route(_)
            | ItemKind::Export(_) => return None,
        })
    }
}

/// `name "display name"`, the start of every named item.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Header {
    pub name: Ident,
    pub display: Option<StrLit>,
}

// ------------------------------------------------------------------ glossary, naming

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Glossary {
    pub roots: Vec<Root>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Root {
    pub name: Ident,
    pub display: Option<StrLit>,
    pub unit: Option<UnitSpec>,
    pub span: Span,
}

/// `currency`, `currency(CNY)`, `count`, `ratio`, …
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct UnitSpec {
    pub kind: Ident,
    pub arg: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Naming {
    pub rules: Vec<NamingRule>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct NamingRule {
    pub kind: Ident,
    pub pattern: StrLit,
    pub span: Span,
}

// ------------------------------------------------------------------ sources

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Source {
    pub header: Header,
    pub location: Location,
    pub columns: Vec<Column>,
    /// `incremental by COLUMN`: a run reads only the rows past the last run's largest
    /// value of the column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<Ident>,
}

/// `csv("path", header = true)`, `parquet("…")`, `ndjson("…")`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Location {
    pub format: Ident,
    pub path: StrLit,
    pub options: Vec<NamedArg>,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Column {
    pub name: Ident,
    pub ty: ColumnType,
    pub nullability: Nullability,
    pub pii: bool,
    pub unit: Option<UnitSpec>,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ColumnType {
    pub name: Ident,
    pub params: Vec<u32>,
    pub span: Span,
}

/// Columns are nullable unless declared `not null`; `?` says so explicitly.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Nullability {
    Unspecified,
    Nullable,
    NotNull,
}

// ------------------------------------------------------------------ model

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Dimension {
    pub header: Header,
    pub source: Ident,
    pub key: Option<Ident>,
    pub attributes: Vec<Ident>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Fact {
    pub header: Header,
    pub source: Ident,
    pub filter: Option<Expr>,
    pub grain: Vec<Ident>,
    pub time: Option<Ident>,
    pub entity: Option<Ident>,
    pub dims: Vec<Binding>,
    pub measures: Vec<Binding>,
}

/// `name` or `name = expr` in `dims { }` and `measures { }`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Binding {
    pub name: Ident,
    pub value: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Atomic {
    pub header: Header,
    pub expr: Expr,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Modifier {
    pub header: Header,
    pub process: Ident,
    pub expr: Expr,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Period {
    pub header: Header,
    pub spec: PeriodSpec,
    pub spec_span: Span,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum PeriodSpec {
    /// `last N days|weeks|months|hours`
    Last { count: u32, unit: PeriodUnit },
    /// `to_date`, `mtd`, `ytd`, `qtd`, `wtd`
    ToDate(ToDate),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum PeriodUnit {
    Hours,
    Days,
    Weeks,
    Months,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum ToDate {
    All,
    Week,
    Month,
    Quarter,
    Year,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Derived {
    pub header: Header,
    pub atomic: Ident,
    /// The names inside `[ ]`: one period and any number of modifiers, in any order.
    pub qualifiers: Vec<Ident>,
    pub by: Vec<Ident>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Composite {
    pub header: Header,
    pub expr: Expr,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Check {
    pub rule: CheckRule,
    pub severity: Option<Ident>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum CheckRule {
    Unique { process: Ident, column: Ident },
    Expr(Expr),
}

// ------------------------------------------------------------------ OneID

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OneId {
    pub header: Header,
    pub identifiers: Vec<Identifier>,
    pub links: Vec<Link>,
    pub rejects: Vec<RejectValues>,
    pub reject_frequent: Option<Guard>,
    pub max_component: Option<Guard>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Identifier {
    pub name: Ident,
    pub normalize: Option<Ident>,
    pub strength: Option<Strength>,
    pub unique: bool,
    pub scoped_by: Option<Ident>,
    pub max_per_person: Option<Guard>,
    pub span: Span,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Strength {
    Strong,
    Weak,
}

/// A numeric limit with its span (`max_component 200`).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Guard {
    pub value: u64,
    pub span: Span,
}

/// `link source (identifier, identifier = column)`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Link {
    pub source: Ident,
    pub fields: Vec<LinkField>,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LinkField {
    pub identifier: Ident,
    /// The source columns when they are named differently from the identifier: one
    /// (`phone = mobile`), or several whose values together make a compound value
    /// (`name_dob = (given_name, surname, date_of_birth)`).
    pub columns: Vec<Ident>,
}

impl LinkField {
    /// The columns the identifier's value is read from.
    pub fn parts(&self) -> &[Ident] {
        if self.columns.is_empty() {
            std::slice::from_ref(&self.identifier)
        } else {
            &self.columns
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RejectValues {
    pub identifier: Ident,
    pub values: Vec<StrLit>,
    pub span: Span,
}

// ------------------------------------------------------------------ consumer assets

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Tag {
    pub header: Header,
    pub entity: Ident,
    pub values: Vec<StrLit>,
    pub expr: Expr,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Aipl {
    pub header: Header,
    pub entity: Ident,
    pub by: Vec<Ident>,
    /// `channel of media_touch = platform`: a `by` value for the rows of a table that
    /// has no column or dimension of that name.
    pub breakdowns: Vec<BreakdownOf>,
    pub stages: Vec<Stage>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct BreakdownOf {
    /// The `by` it gives a value (`channel`).
    pub by: Ident,
    /// The fact or source whose rows get it.
    pub table: Ident,
    /// The value, over a row of the table.
    pub expr: Expr,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Stage {
    pub name: Ident,
    pub display: Option<StrLit>,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Rfm {
    pub header: Header,
    pub entity: Ident,
    pub measures: Vec<RfmMeasure>,
    pub baseline: Option<Baseline>,
    pub segments: Vec<RfmSegment>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RfmMeasure {
    pub kind: RfmKind,
    pub expr: Expr,
    pub score: Score,
    pub span: Span,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum RfmKind {
    Recency,
    Frequency,
    Monetary,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Score {
    /// Thresholds as written (decimal text).
    Thresholds(Vec<String>, Span),
    Quantiles(u32, Span),
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Baseline {
    Named(Ident),
    Value(String, Span),
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RfmSegment {
    pub code: Ident,
    pub label: StrLit,
    pub span: Span,
}

// ------------------------------------------------------------------ audiences

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Audience {
    pub header: Header,
    pub entity: Ident,
    pub expr: Expr,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Compare {
    pub audience: Ident,
    /// Another audience, or `all`.
    pub against: Ident,
    pub by: Vec<Ident>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Route {
    pub audience: Ident,
    pub arms: Vec<RouteArm>,
    pub otherwise: Option<Ident>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RouteArm {
    pub condition: Expr,
    pub channel: Ident,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Export {
    pub audience: Ident,
    pub location: Location,
    pub columns: Vec<ExportColumn>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ExportColumn {
    pub expr: Expr,
    pub alias: Option<Ident>,
    pub span: Span,
}

// ------------------------------------------------------------------ scans

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Scan {
    pub header: Header,
    pub captures: Vec<Expr>,
    pub camera_height: Option<Expr>,
    pub steps: Vec<ScanStep>,
    pub hotspots: Vec<Hotspot>,
    pub outputs: Vec<Expr>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ScanStep {
    Upright(Span),
    /// `layout manhattan(tolerance = 10deg)` or `layout free`.
    Layout(Expr),
    MergeBy(Ident),
    Texture(u32, Span),
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Hotspot {
    pub name: Ident,
    pub display: Option<StrLit>,
    pub place: HotspotPlace,
    pub kind: Ident,
    pub target: StrLit,
    /// Whether the content was written before the place.
    pub content_first: bool,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum HotspotPlace {
    /// Coordinates as written, in metres.
    At([String; 3], Span),
    Room(Ident),
}

// ------------------------------------------------------------------ dashboards

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Dashboard {
    pub header: Header,
    pub widgets: Vec<Widget>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Widget {
    pub kind: WidgetKind,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum WidgetKind {
    Trend {
        model: Ident,
        over: Quantity,
        by: Vec<Ident>,
    },
    Flow {
        model: Ident,
        from: Quantity,
        to: Option<Quantity>,
    },
    Contribution {
        dimension: Ident,
        target: Expr,
    },
    Kpi {
        metrics: Vec<Ident>,
    },
}

// ------------------------------------------------------------------ built-in functions

/// A function signature, declared in the standard library.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Function {
    pub header: Header,
    pub params: Vec<Param>,
    pub returns: Ident,
    pub flags: Vec<Ident>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Param {
    pub name: Ident,
    pub ty: Ident,
    pub optional: bool,
}

// ------------------------------------------------------------------ expressions

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ExprKind {
    /// Decimal text as written.
    Number(String),
    Str(String),
    Bool(bool),
    Null,
    Quantity(Quantity),
    Name(Ident),
    Field(Box<Expr>, Ident),
    /// `metric[period, modifier, …]`
    Index(Box<Expr>, Vec<Ident>),
    Call(Ident, Vec<Arg>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Case {
        arms: Vec<CaseArm>,
        otherwise: Option<Box<Expr>>,
    },
}

/// A number with a unit: `15d`, `3km`, `1.6m`, `10deg`, `500cny`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Quantity {
    pub negative: bool,
    pub value: String,
    pub unit: QuantityUnit,
    pub span: Span,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum QuantityUnit {
    Weeks,
    Days,
    Hours,
    Minutes,
    Seconds,
    Millis,
    Kilometres,
    Metres,
    Degrees,
    Cny,
}

impl QuantityUnit {
    pub fn suffix(self) -> &'static str {
        match self {
            QuantityUnit::Weeks => "w",
            QuantityUnit::Days => "d",
            QuantityUnit::Hours => "h",
            QuantityUnit::Minutes => "min",
            QuantityUnit::Seconds => "s",
            QuantityUnit::Millis => "ms",
            QuantityUnit::Kilometres => "km",
            QuantityUnit::Metres => "m",
            QuantityUnit::Degrees => "deg",
            QuantityUnit::Cny => "cny",
        }
    }

    pub fn from_suffix(s: &str) -> Option<QuantityUnit> {
        Some(match s {
            "w" => QuantityUnit::Weeks,
            "d" => QuantityUnit::Days,
            "h" => QuantityUnit::Hours,
            "min" => QuantityUnit::Minutes,
            "s" => QuantityUnit::Seconds,
            "ms" => QuantityUnit::Millis,
            "km" => QuantityUnit::Kilometres,
            "m" => QuantityUnit::Metres,
            "deg" => QuantityUnit::Degrees,
            "cny" => QuantityUnit::Cny,
            _ => return None,
        })
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Arg {
    /// `expr` or `source where condition`.
    Positional {
        value: Expr,
        filter: Option<Expr>,
    },
    Named(NamedArg),
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct NamedArg {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct CaseArm {
    pub condition: Expr,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Coalesce => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }

    /// Binding power: higher binds tighter. Shared by the parser and the formatter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => 4,
            BinaryOp::Coalesce => 5,
            BinaryOp::Add | BinaryOp::Sub => 6,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 7,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }
}

/// Precedence of `not` (binds looser than comparisons, tighter than `and`).
pub const NOT_PRECEDENCE: u8 = 3;
/// Precedence of `in` / `not in`, the same as comparisons.
pub const IN_PRECEDENCE: u8 = 4;
/// Precedence of unary minus.
pub const NEG_PRECEDENCE: u8 = 8;

impl Expr {
    /// Calls `f` on this expression and every expression inside it, outermost first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        self.walk_inner(true, f)
    }

    /// Like [`Expr::walk`], but skips the `where` filters of call arguments, whose
    /// names are columns of the aggregated rows rather than project items.
    pub fn walk_outside_filters<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        self.walk_inner(false, f)
    }

    fn walk_inner<'a>(&'a self, filters: bool, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Number(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Quantity(_)
            | ExprKind::Name(_) => {}
            ExprKind::Field(base, _) | ExprKind::Index(base, _) | ExprKind::Unary(_, base) => {
                base.walk_inner(filters, f)
            }
            ExprKind::Call(_, args) => {
                for arg in args {
                    match arg {
                        Arg::Positional { value, filter } => {
                            value.walk_inner(filters, f);
                            if let Some(filter) = filter.as_ref().filter(|_| filters) {
                                filter.walk_inner(filters, f);
                            }
                        }
                        Arg::Named(named) => named.value.walk_inner(filters, f),
                    }
                }
            }
            ExprKind::Binary(_, lhs, rhs) => {
                lhs.walk_inner(filters, f);
                rhs.walk_inner(filters, f);
            }
            ExprKind::In { expr, list, .. } => {
                expr.walk_inner(filters, f);
                for e in list {
                    e.walk_inner(filters, f);
                }
            }
            ExprKind::Case { arms, otherwise } => {
                for arm in arms {
                    arm.condition.walk_inner(filters, f);
                    arm.value.walk_inner(filters, f);
                }
                if let Some(e) = otherwise {
                    e.walk_inner(filters, f);
                }
            }
        }
    }
}
