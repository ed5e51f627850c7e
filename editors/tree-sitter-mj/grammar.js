/**
 * @file Tree-sitter grammar for mj, the declarative modeling language of this repository.
 * @license Apache-2.0
 *
 * This grammar mirrors `lang/src/mj.pest`, the grammar the compiler uses. Rule names
 * follow the pest rules where they have a node of their own (`fact_grain`, `dim_key`,
 * `rfm_measure`, `widget_trend`, …). Differences that come from how tree-sitter works
 * (error recovery, contextual keywords) are listed in README.md.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

// Expression precedence, from the tightest to the loosest, as in the compiler's Pratt
// parser (`PRATT` in lang/src/parser.rs) and section 4 of docs/language.md:
//   call        `f (x)` is a call wherever `f` could end an expression (pest is greedy too)
//   postfix     .field, [names]
//   neg         prefix -
//   mul         * / %
//   add         + -
//   coalesce    ?? (right-associative)
//   compare     == != < <= > >=, in (…), not in (…)
//   not_in      the `not` of `x not in (…)` (see `precedences` below)
//   not         prefix not
//   and, or
const PRECEDENCE_LEVELS = [
  'call', 'postfix', 'neg', 'mul', 'add', 'coalesce', 'compare', 'not_in', 'not', 'and', 'or',
];

// Words that are never names (pest: `keyword`).
const RESERVED = ['and', 'or', 'not', 'in', 'where', 'case', 'else', 'true', 'false', 'null', 'by'];

// pest: quantity_unit. Longest match picks `min` over `m`, `ms` over `m`.
const QUANTITY = /[0-9]+(\.[0-9]+)?(km|deg|min|cny|ms|m|d|h|s|w)/;

/** `rule` one or more times, separated by commas. */
function commaSep1(rule) {
  return seq(rule, repeat(seq(',', rule)));
}

/** `rule` one or more times, separated by commas, with an optional trailing comma. */
function commaSep1Trailing(rule) {
  return seq(rule, repeat(seq(',', rule)), optional(','));
}

module.exports = grammar({
  name: 'mj',

  extras: $ => [/[ \t\r\n\uFEFF]/, $.comment],

  word: $ => $.identifier,

  reserved: {
    global: _ => RESERVED,
  },

  supertypes: $ => [$._item, $._expression],

  precedences: $ => [
    PRECEDENCE_LEVELS,
    // Every operator binds tighter than the end of a `case` arm or an `export` column,
    // except the `not` of `not in`, which is left unordered against them: after `a => b`
    // a `not` may continue `b not in (…)` or start the next arm `not c => d`. pest tries
    // `not in` and backs off; here the conflicts below keep both parses until the token
    // after `not` settles it.
    [...PRECEDENCE_LEVELS.filter(level => level !== 'not_in'), $.case_arm, $.export_col],
    // A name followed by `(` is a call, not a name that ends an expression.
    ['call', $._expression],
  ],

  conflicts: $ => [
    [$.case_arm, $.in_expression],
    [$.export_col, $.in_expression],
  ],

  rules: {
    source_file: $ => repeat($._item),

    _item: $ => choice(
      $.glossary,
      $.naming,
      $.source,
      $.dimension,
      $.fact,
      $.atomic,
      $.modifier,
      $.period,
      $.derived,
      $.composite,
      $.check,
      $.oneid,
      $.tag,
      $.aipl,
      $.rfm,
      $.audience,
      $.compare,
      $.route,
      $.export,
      $.scan,
      $.dashboard,
      $.function,
    ),

    // ------------------------------------------------------------ lexical

    comment: _ => token(seq('//', /[^\r\n]*/)),

    identifier: _ => /[A-Za-z_][A-Za-z0-9_]*/,

    // pest `name`: the names of roots, metrics, modifiers, periods, the names inside
    // `[ ]`, fields after `.` and kpi metrics may start with a digit (`30d`).
    _name: $ => choice($.identifier, alias($._digit_name, $.identifier)),
    _digit_name: _ => /[0-9][A-Za-z0-9_]*/,

    // pest `digit_name`: in an expression, a metric whose name starts with its period
    // (`30d_pay_amt`); a bare `30d` is a quantity.
    _digit_reference: _ => /[0-9]+[A-Za-z]*_[A-Za-z0-9_]+/,

    string: $ => seq(
      '"',
      repeat(choice($._string_content, $.escape_sequence)),
      token.immediate('"'),
    ),
    _string_content: _ => token.immediate(prec(1, /[^"\\\n]+/)),
    escape_sequence: _ => token.immediate(/\\(.|\r?\n)/),

    number: _ => /[0-9]+(\.[0-9]+)?/,
    integer: _ => /[0-9]+/,
    signed_number: _ => /-?[0-9]+(\.[0-9]+)?/,
    quantity: _ => token(QUANTITY),
    signed_quantity: _ => token(seq(optional('-'), QUANTITY)),

    boolean: _ => choice('true', 'false'),
    null: _ => 'null',

    // ------------------------------------------------------------ glossary, naming

    glossary: $ => seq('glossary', '{', repeat($.root), '}'),

    root: $ => seq(
      'root',
      field('name', $._name),
      optional(field('display', $.string)),
      optional($.unit_clause),
    ),

    // The unit is on the same line as `unit` (pest: `unit_clause`, with `inline_ws`), so
    // a dangling `unit` cannot take the next line's column name as its unit.
    unit_clause: $ => seq(
      'unit',
      $._inline_space,
      field('unit', alias($._inline_identifier, $.identifier)),
      optional(seq('(', field('argument', $.identifier), ')')),
    ),
    _inline_space: _ => token.immediate(/[ \t]+/),
    _inline_identifier: _ => token.immediate(/[A-Za-z_][A-Za-z0-9_]*/),

    naming: $ => seq('naming', '{', repeat($.naming_rule), '}'),

    naming_rule: $ => seq(field('kind', $.identifier), '=', field('pattern', $.string)),

    // ------------------------------------------------------------ sources

    source: $ => seq(
      'source',
      field('name', $.identifier),
      optional(field('display', $.string)),
      'from',
      field('location', $.location),
      '{',
      repeat(choice($.incremental, $.column)),
      '}',
    ),

    incremental: $ => seq('incremental', 'by', field('column', $.identifier)),

    location: $ => seq(
      field('format', $.identifier),
      '(',
      field('path', $.string),
      repeat(seq(',', $.named_argument)),
      ')',
    ),

    column: $ => seq(
      field('name', $.identifier),
      field('type', $.col_type),
      optional(choice($.optional_mark, $.not_null)),
      optional($.pii),
      optional($.unit_clause),
    ),

    col_type: $ => seq(
      field('name', $.identifier),
      optional(seq('(', commaSep1(field('parameter', $.integer)), ')')),
    ),

    optional_mark: _ => '?',
    not_null: _ => seq('not', 'null'),
    pii: _ => 'pii',

    // ------------------------------------------------------------ model

    dimension: $ => seq(
      'dimension',
      field('name', $.identifier),
      optional(field('display', $.string)),
      'from',
      field('source', $.identifier),
      '{',
      repeat(choice($.dim_key, $.dim_attributes)),
      '}',
    ),

    dim_key: $ => seq('key', field('column', $.identifier)),

    dim_attributes: $ => seq(
      'attributes',
      '{',
      optional(commaSep1Trailing(field('column', $.identifier))),
      '}',
    ),

    fact: $ => seq(
      'fact',
      field('name', $.identifier),
      optional(field('display', $.string)),
      'from',
      field('source', $.identifier),
      optional($.where_clause),
      '{',
      repeat(choice($.fact_grain, $.fact_time, $.fact_entity, $.fact_dims, $.fact_measures)),
      '}',
    ),

    where_clause: $ => seq('where', field('condition', $._expression)),

    fact_grain: $ => seq('grain', commaSep1(field('column', $.identifier))),
    fact_time: $ => seq('time', field('column', $.identifier)),
    fact_entity: $ => seq('entity', field('entity', $.identifier)),
    fact_dims: $ => seq('dims', '{', optional(commaSep1Trailing($.binding)), '}'),
    fact_measures: $ => seq('measures', '{', optional(commaSep1Trailing($.binding)), '}'),

    binding: $ => seq(
      field('name', $.identifier),
      optional(seq('=', field('value', $._expression))),
    ),

    atomic: $ => seq(
      'atomic',
      field('name', $._name),
      optional(field('display', $.string)),
      '=',
      field('value', $._expression),
    ),

    modifier: $ => seq(
      'modifier',
      field('name', $._name),
      optional(field('display', $.string)),
      'on',
      field('fact', $.identifier),
      '=',
      field('condition', $._expression),
    ),

    period: $ => seq(
      'period',
      field('name', $._name),
      optional(field('display', $.string)),
      '=',
      field('spec', choice($.period_last, $.period_to_date)),
    ),

    period_last: $ => seq('last', field('count', $.integer), field('unit', $.period_unit)),
    period_unit: _ => choice('days', 'day', 'weeks', 'week', 'months', 'month', 'hours', 'hour'),
    period_to_date: _ => choice('to_date', 'mtd', 'ytd', 'qtd', 'wtd'),

    derived: $ => seq(
      'derived',
      field('name', $._name),
      optional(field('display', $.string)),
      '=',
      field('metric', $._name),
      '[',
      commaSep1(field('qualifier', $._name)),
      ']',
      optional($.granularity),
    ),

    granularity: $ => seq('by', commaSep1(field('dimension', $.identifier))),

    composite: $ => seq(
      'composite',
      field('name', $._name),
      optional(field('display', $.string)),
      '=',
      field('value', $._expression),
    ),

    // pest tries `unique TABLE.COLUMN` first; here `unique` right after `check` is always
    // the keyword.
    check: $ => seq(
      'check',
      choice($.check_unique, field('condition', $._expression)),
      optional($.severity),
    ),

    check_unique: $ => seq(
      'unique',
      field('table', $.identifier),
      '.',
      field('column', $.identifier),
    ),

    severity: $ => seq('severity', field('level', $.identifier)),

    // ------------------------------------------------------------ OneID

    oneid: $ => seq(
      'oneid',
      field('name', $.identifier),
      optional(field('display', $.string)),
      '{',
      repeat(choice(
        $.oneid_identifier,
        $.link,
        $.reject_frequent,
        $.reject_values,
        $.max_component,
      )),
      '}',
    ),

    // pest: `identifier`.
    oneid_identifier: $ => seq(
      'identifier',
      field('name', $.identifier),
      repeat(choice($.id_normalize, $.id_strength, $.id_unique, $.id_scoped, $.id_max_per)),
    ),

    id_normalize: $ => seq('normalize', field('function', $.identifier)),
    id_strength: _ => choice('strong', 'weak'),
    id_unique: _ => 'unique',
    id_scoped: $ => seq('scoped', 'by', field('column', $.identifier)),
    id_max_per: $ => seq('max_per_person', field('count', $.integer)),

    link: $ => seq(
      'link',
      field('source', $.identifier),
      '(',
      commaSep1($.link_field),
      ')',
    ),

    link_field: $ => seq(
      field('identifier', $.identifier),
      optional(seq(
        '=',
        choice(
          field('column', $.identifier),
          seq('(', commaSep1(field('column', $.identifier)), ')'),
        ),
      )),
    ),

    reject_frequent: $ => seq('reject', 'frequent', 'above', field('count', $.integer)),

    // An identifier may be called `frequent`: `reject frequent ("x")` (pest tries
    // `reject frequent above N` first and backs off).
    reject_values: $ => seq(
      'reject',
      field('identifier', choice($.identifier, alias('frequent', $.identifier))),
      '(',
      commaSep1(field('value', $.string)),
      ')',
    ),

    max_component: $ => seq('max_component', field('count', $.integer)),

    // ------------------------------------------------------------ consumer assets

    tag: $ => seq(
      'tag',
      field('name', $.identifier),
      optional(field('display', $.string)),
      'on',
      field('entity', $.identifier),
      optional($.tag_values),
      '=',
      field('value', $._expression),
    ),

    tag_values: $ => seq('values', '(', commaSep1(field('value', $.string)), ')'),

    aipl: $ => seq(
      'aipl',
      field('name', $.identifier),
      optional(field('display', $.string)),
      'on',
      field('entity', $.identifier),
      optional($.granularity),
      '{',
      repeat(choice($.breakdown_of, $.stage)),
      '}',
    ),

    // `channel of media_touch = platform`: where a table's rows get a `by` value.
    breakdown_of: $ => seq(
      field('dimension', $.identifier),
      'of',
      field('table', $.identifier),
      '=',
      field('value', $._expression),
    ),

    stage: $ => seq(
      field('name', $.identifier),
      optional(field('display', $.string)),
      '=',
      field('condition', $._expression),
    ),

    rfm: $ => seq(
      'rfm',
      field('name', $.identifier),
      optional(field('display', $.string)),
      'on',
      field('entity', $.identifier),
      '{',
      repeat(choice($.rfm_measure, $.rfm_baseline, $.rfm_segments)),
      '}',
    ),

    rfm_measure: $ => seq(
      field('kind', $.rfm_kind),
      '=',
      field('value', $._expression),
      field('score', $.rfm_score),
    ),

    rfm_kind: _ => choice('recency', 'frequency', 'monetary'),

    rfm_score: $ => seq('score', choice($.rfm_thresholds, $.rfm_quantiles)),

    rfm_thresholds: $ => seq('[', commaSep1(field('threshold', $.signed_number)), ']'),

    rfm_quantiles: $ => seq('quantiles', field('count', $.integer)),

    rfm_baseline: $ => seq(
      'baseline',
      field('baseline', choice($.signed_number, $.identifier)),
    ),

    rfm_segments: $ => seq('segments', '{', repeat($.rfm_segment), '}'),

    rfm_segment: $ => seq(field('code', $.identifier), field('label', $.string)),

    // ------------------------------------------------------------ audiences

    audience: $ => seq(
      'audience',
      field('name', $.identifier),
      optional(field('display', $.string)),
      'on',
      field('entity', $.identifier),
      '=',
      field('condition', $._expression),
    ),

    compare: $ => seq(
      'compare',
      field('audience', $.identifier),
      'against',
      field('baseline', $.identifier),
      'by',
      commaSep1(field('dimension', $.identifier)),
    ),

    route: $ => seq(
      'route',
      field('audience', $.identifier),
      '{',
      repeat($.route_arm),
      optional($.route_else),
      '}',
    ),

    route_arm: $ => seq(field('condition', $._expression), '=>', field('channel', $.identifier)),

    route_else: $ => seq('else', '=>', field('channel', $.identifier)),

    export: $ => seq(
      'export',
      field('audience', $.identifier),
      'to',
      field('location', $.location),
      '{',
      repeat($.export_col),
      '}',
    ),

    export_col: $ => seq(
      field('value', $._expression),
      optional(seq('as', field('alias', $.identifier))),
    ),

    // ------------------------------------------------------------ scans

    scan: $ => seq(
      'scan',
      field('name', $.identifier),
      optional(field('display', $.string)),
      '{',
      repeat(choice($.scan_capture, $.scan_camera, $.scan_steps, $.hotspot, $.scan_output)),
      '}',
    ),

    scan_capture: $ => seq('capture', repeat1(field('input', $.call))),

    scan_camera: $ => seq('camera_height', field('height', choice($.quantity, $.number))),

    scan_steps: $ => seq(
      'steps',
      '{',
      repeat(choice($.step_upright, $.step_layout, $.step_merge, $.step_texture)),
      '}',
    ),

    step_upright: _ => 'upright',
    step_layout: $ => seq('layout', field('method', choice($.call, $.identifier))),
    step_merge: $ => seq('merge', 'by', field('by', $.identifier)),
    step_texture: $ => seq('texture', field('size', $.integer)),

    hotspot: $ => seq(
      'hotspot',
      field('name', $.identifier),
      optional(field('display', $.string)),
      choice(
        seq(field('place', $._hotspot_place), field('content', $.hotspot_content)),
        seq(field('content', $.hotspot_content), field('place', $._hotspot_place)),
      ),
    ),

    _hotspot_place: $ => choice($.hotspot_at, $.hotspot_room),

    hotspot_at: $ => seq(
      'at',
      '(',
      field('x', $.signed_number),
      ',',
      field('y', $.signed_number),
      ',',
      field('z', $.signed_number),
      ')',
    ),

    hotspot_room: $ => seq('in', 'room', field('room', $.identifier)),

    hotspot_content: $ => seq(field('kind', $.identifier), field('target', $.string)),

    scan_output: $ => seq('output', commaSep1(field('output', $.call))),

    // ------------------------------------------------------------ dashboards

    dashboard: $ => seq(
      'dashboard',
      field('name', $.identifier),
      optional(field('display', $.string)),
      '{',
      repeat(choice(
        $.widget_trend,
        $.widget_flow,
        $.widget_contribution,
        $.widget_kpi,
      )),
      '}',
    ),

    widget_trend: $ => seq(
      'trend',
      field('model', $.identifier),
      'over',
      field('window', $.quantity),
      optional($.granularity),
    ),

    widget_flow: $ => seq(
      'flow',
      field('model', $.identifier),
      'from',
      field('from', $.signed_quantity),
      optional(seq('to', field('to', $.signed_quantity))),
    ),

    widget_contribution: $ => seq(
      'contribution',
      field('dimension', $.identifier),
      'to',
      field('target', $._expression),
    ),

    widget_kpi: $ => seq('kpi', commaSep1(field('metric', $._name))),

    // ------------------------------------------------------------ built-in functions

    function: $ => seq(
      'fn',
      field('name', $.identifier),
      '(',
      optional(commaSep1($.param)),
      ')',
      '->',
      field('return_type', $.identifier),
      repeat($.fn_flag),
      optional(field('display', $.string)),
    ),

    param: $ => seq(
      field('name', $.identifier),
      ':',
      field('type', $.identifier),
      optional($.optional_mark),
    ),

    fn_flag: _ => choice('aggregate', 'normalizer', 'window'),

    // ------------------------------------------------------------ expressions

    _expression: $ => choice(
      $.binary_expression,
      $.unary_expression,
      $.in_expression,
      $.field_expression,
      $.index_expression,
      $.call,
      $.case_expression,
      $.parenthesized_expression,
      $.quantity,
      $.number,
      $.string,
      $.boolean,
      $.null,
      $.identifier,
      alias($._digit_reference, $.identifier),
    ),

    binary_expression: $ => {
      const table = [
        [prec.left, 'or', 'or'],
        [prec.left, 'and', 'and'],
        [prec.left, 'compare', choice('==', '!=', '<', '<=', '>', '>=')],
        [prec.right, 'coalesce', '??'],
        [prec.left, 'add', choice('+', '-')],
        [prec.left, 'mul', choice('*', '/', '%')],
      ];
      return choice(...table.map(([assoc, precedence, operator]) => assoc(precedence, seq(
        field('left', $._expression),
        field('operator', operator),
        field('right', $._expression),
      ))));
    },

    unary_expression: $ => choice(
      prec('not', seq(field('operator', 'not'), field('operand', $._expression))),
      prec('neg', seq(field('operator', '-'), field('operand', $._expression))),
    ),

    // pest: `in_list`, a postfix at the level of the comparisons. A `prec` sets the
    // precedence of the positions between the steps it covers, so the one around
    // `value` and `not` gives the `not` its own level (see `precedences`).
    in_expression: $ => {
      const list = seq('in', '(', commaSep1(field('item', $._expression)), ')');
      return prec.left('compare', choice(
        seq(field('value', $._expression), list),
        seq(prec('not_in', seq(field('value', $._expression), field('negation', 'not'))), list),
      ));
    },

    field_expression: $ => prec('postfix', seq(
      field('object', $._expression),
      '.',
      field('field', $._name),
    )),

    // `pay_amt[30d, online]`: a metric qualified by a period and modifiers.
    index_expression: $ => prec('postfix', seq(
      field('object', $._expression),
      '[',
      commaSep1(field('qualifier', $._name)),
      ']',
    )),

    call: $ => prec('call', seq(
      field('function', $.identifier),
      field('arguments', $.arguments),
    )),

    arguments: $ => seq(
      '(',
      optional(commaSep1(choice($.named_argument, $.filtered_argument, $._expression))),
      ')',
    ),

    named_argument: $ => seq(
      field('name', $.identifier),
      '=',
      field('value', $._expression),
    ),

    // `exists(media_touch where kind == "click")`: the rows of a table that qualify.
    filtered_argument: $ => seq(
      field('value', $._expression),
      'where',
      field('condition', $._expression),
    ),

    case_expression: $ => seq(
      'case',
      '{',
      repeat($.case_arm),
      optional($.case_else),
      '}',
    ),

    case_arm: $ => seq(field('condition', $._expression), '=>', field('value', $._expression)),

    case_else: $ => seq('else', '=>', field('value', $._expression)),

    parenthesized_expression: $ => seq('(', $._expression, ')'),
  },
});
