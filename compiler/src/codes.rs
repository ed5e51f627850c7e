//! Every diagnostic code, with what it catches, why it matters and how to fix it.
//! `docs/diagnostics.md` is generated from this table (a test keeps them equal).

macro_rules! codes {
    ($( $(#[doc = $doc:literal])+ $name:ident = $code:literal; )+) => {
        $( $(#[doc = $doc])+ pub const $name: &str = $code; )+
        /// (code, documentation) of every diagnostic.
        pub const ALL: &[(&str, &str)] = &[ $( ($code, concat!($($doc, "\n"),+)) ),+ ];
    };
}

codes! {
    /// Text that does not follow the grammar. The message says what was expected;
    /// parsing goes on with the next line or item, so each typo is reported once.
    SYNTAX = "mj::syntax::invalid";
    /// A name that refers to nothing. Names are global across the project's files and
    /// the standard library. The fix offers the closest existing name of the right kind.
    UNRESOLVED = "mj::resolve::unresolved_name";
    /// A name that exists but is the wrong kind of thing here, such as a derived
    /// metric where an atomic metric is expected.
    WRONG_KIND = "mj::resolve::wrong_kind";
    /// The same name defined twice (in one file or across files), a root declared
    /// twice, a column, stage or exported column repeated, or two `naming` blocks.
    /// One name has one meaning: rename one of them.
    DUPLICATE = "mj::resolve::duplicate_definition";
    /// Items that depend on themselves through their references (a composite metric
    /// built on itself, two tags defined by each other). Break one reference.
    CYCLE = "mj::resolve::cycle";
    /// A part of a metric, modifier or period name that is not a glossary root
    /// (OneData: names are made of declared root words). Fix the spelling or declare
    /// the root; the fix offers either.
    UNKNOWN_ROOT = "mj::glossary::unknown_root";
    /// A derived metric whose name is not what the project's naming rule composes
    /// from its atomic metric, modifiers and period. The name is read back into its
    /// parts, so the message says which part is wrong; the fix renames it.
    DERIVED_NAME_MISMATCH = "mj::naming::derived_name_mismatch";
    /// A metric whose name promises one unit (a root declared `unit currency`, such as
    /// `amt`) but whose definition measures another (a count).
    UNIT_MISMATCH = "mj::naming::unit_mismatch";
    /// A `naming` rule that is unknown or whose pattern lacks `{atomic}` or
    /// `{period}`, repeats a placeholder or uses an unknown one.
    INVALID_NAMING_RULE = "mj::naming::invalid_rule";
    /// Two items with the same normalized definition under different names (same
    /// atomic, same modifiers in any order, same period and granularity; same filter
    /// up to operand order), or two roots with the same meaning. Keep one.
    DUPLICATE_MEANING = "mj::semantics::duplicate_meaning";
    /// One display name used for two items of the same kind that mean different
    /// things: readers of dashboards could not tell them apart.
    DISPLAY_NAME_CLASH = "mj::semantics::display_name_clash";
    /// `sum` over a ratio (or a per-unit value such as currency/count): ratios do not
    /// add up. Sum numerator and denominator and divide them in a composite metric.
    NON_ADDITIVE_SUM = "mj::units::non_additive_sum";
    /// Arithmetic or comparison between incompatible units, such as currency + count
    /// or CNY + USD.
    INCOMPATIBLE_UNITS = "mj::units::incompatible";
    /// A unit that mj does not know (units: currency, currency(CODE), count, ratio,
    /// km, m, days, hours), or a unit on a column that is not a number.
    UNKNOWN_UNIT = "mj::units::unknown_unit";
    /// An expression of the wrong type: a condition that is not true/false, text
    /// compared with a number, a stage compared with a string, a function given the
    /// wrong kind of argument.
    TYPE_MISMATCH = "mj::types::mismatch";
    /// A column or function type that mj does not know, or a decimal with an invalid
    /// precision or scale.
    UNKNOWN_TYPE = "mj::types::unknown_type";
    /// A table column used where one value per entity is needed (a tag, an audience):
    /// wrap it in an aggregate such as latest(…) or sum(…).
    NEEDS_AGGREGATE = "mj::types::needs_aggregate";
    /// A call with too many or too few arguments, or a named argument that the
    /// function does not have.
    BAD_ARGUMENTS = "mj::types::bad_arguments";
    /// A function that a row expression (a fact's measures, dimensions and filter, a
    /// modifier, an atomic metric's argument, a `where` inside an aggregate) cannot call:
    /// `days_since`, `bucket`, `distance` and `now` are for entity-level expressions
    /// (tags, AIPL, RFM, audiences), `sha256`, `md5` and `plain` for exports. The
    /// message lists what a row expression takes.
    NOT_IN_ROWS = "mj::types::not_in_rows";
    /// A column that the source, fact or dimension does not have.
    UNKNOWN_COLUMN = "mj::model::unknown_column";
    /// A derived metric that applies a modifier declared on another business process:
    /// a modifier only filters the process it is declared on.
    MODIFIER_WRONG_PROCESS = "mj::model::modifier_wrong_process";
    /// A granularity (`by …`) that is neither a dimension nor the entity of the
    /// business process, or an AIPL/dashboard `by` that no process of the entity carries.
    INVALID_GRANULARITY = "mj::model::invalid_granularity";
    /// A derived metric without exactly one period, or a period of zero length.
    INVALID_PERIOD = "mj::model::invalid_period";
    /// A fact keyed by an entity whose OneID rules do not link the fact's source, so
    /// its rows would get no id.
    NOT_LINKED = "mj::model::not_linked";
    /// A data-quality check with an unknown severity (error or warn).
    INVALID_CHECK = "mj::model::invalid_check";
    /// A `link` or `reject` that names an identifier the OneID does not declare.
    UNDECLARED_IDENTIFIER = "mj::oneid::undeclared_identifier";
    /// A `link` to a column the source does not have, or an identifier `scoped by` a
    /// column that a linked source lacks.
    MISSING_COLUMN = "mj::oneid::missing_column";
    /// A OneID guard (max_per_person, reject frequent above, max_component) that is not
    /// positive or that would split everyone.
    INVALID_GUARD = "mj::oneid::invalid_guard";
    /// (warning) An identifier declared but linked from no source.
    UNUSED_IDENTIFIER = "mj::oneid::unused_identifier";
    /// (warning) A database location reads its URL from an environment variable that is
    /// not set where `mj check` runs: `mj run` would fail on it. Set the variable (or
    /// `[sources.<name>] url` in mj.toml) before running.
    UNSET_ENV = "mj::source::unset_env";
    /// A tag compared with, or producing, a value outside its declared `values`.
    UNKNOWN_TAG_VALUE = "mj::tags::unknown_value";
    /// An AIPL stage that is not A, I, P or L, or a comparison of an AIPL model with
    /// something that is not one of its stages.
    UNKNOWN_STAGE = "mj::aipl::unknown_stage";
    /// An AIPL model broken down `by channel` whose stages read rows that have no
    /// channel: a table with no column or dimension of that name and no
    /// `channel of TABLE = …` in the model, or a metric filtered on a dimension
    /// attribute. Each entity's channel is that of the most recent row that qualified
    /// its stage, so every row a stage reads must have one; the fix declares it.
    NO_BREAKDOWN = "mj::aipl::no_breakdown";
    /// An RFM model with a missing or repeated measure, decreasing thresholds, an
    /// unknown baseline, or a segment code that is not three of H/L.
    RFM_INVALID = "mj::rfm::invalid_model";
    /// Something computed per one entity (or granularity) used for another: a metric
    /// by store in a consumer tag, an audience of members compared with consumers.
    ENTITY_MISMATCH = "mj::assets::entity_mismatch";
    /// A `pii` identifier exported in clear. Hash it with sha256(…) or md5(…), or say
    /// plain(…) to export it in clear on purpose.
    PII_IN_CLEAR = "mj::export::pii_in_clear";
    /// An exported expression without a column name.
    EXPORT_UNKNOWN_COLUMN = "mj::export::unnamed_column";
    /// A scan setting out of range: camera height outside 0.3–3 m, a Manhattan
    /// tolerance outside (0°, 45°], a texture size that is not a power of two in 256–8192.
    SCAN_OUT_OF_RANGE = "mj::scan::out_of_range";
    /// A scan output that is not one of glb, obj, floorplan, tour, summary, a scan
    /// without outputs, or an output path outside the output folder (absolute, `..`).
    SCAN_UNKNOWN_OUTPUT = "mj::scan::unknown_output";
    /// A scan without captures, an unknown merge method or hotspot kind.
    SCAN_INVALID_STEP = "mj::scan::invalid_step";
}

/// The documentation page of every code, in Markdown.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Diagnostics\n\nEvery diagnostic mj reports has one of these stable codes. \
         This page is generated from `compiler/src/codes.rs`.\n",
    );
    for (code, doc) in ALL {
        let doc: Vec<&str> = doc.lines().map(str::trim).collect();
        out.push_str(&format!("\n## `{code}`\n\n{}\n", doc.join("\n")));
    }
    out
}
