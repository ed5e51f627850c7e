; Highlights for mj.
;
; Every node gets at most one capture (no catch-all `(identifier) @variable` that a more
; specific pattern has to override), so the result does not depend on whether the editor
; lets the first pattern win (tree-sitter CLI, Helix) or the last one (Neovim).
;
; Conventions:
;   @type            sources, dimensions, facts and OneID entities (tables and entities),
;                    where defined and where referred to outside expressions
;   @function        `fn` definitions and normalizers; @function.call for calls
;   @constant        every other item name: glossary roots, metrics (atomic, derived,
;                    composite), modifiers, periods, tags, AIPL and RFM models and their
;                    stages and segments, audiences, scans, dashboards, hotspots
;   @property        columns, keys, attributes, bindings, OneID identifiers, fields
;   @variable        names inside expressions
;   @type.builtin    column types, parameter and return types, units, hotspot content kinds
;   @label           the channels of a `route`

; ---------------------------------------------------------------- keywords

[
  "glossary"
  "naming"
  "source"
  "dimension"
  "fact"
  "atomic"
  "modifier"
  "period"
  "derived"
  "composite"
  "check"
  "oneid"
  "tag"
  "aipl"
  "rfm"
  "audience"
  "compare"
  "route"
  "export"
  "scan"
  "dashboard"
] @keyword

"fn" @keyword.function

[
  "root"
  "unit"
  "incremental"
  "from"
  "where"
  "key"
  "attributes"
  "grain"
  "time"
  "entity"
  "dims"
  "measures"
  "on"
  "last"
  "by"
  "severity"
  "identifier"
  "normalize"
  "scoped"
  "max_per_person"
  "link"
  "reject"
  "frequent"
  "above"
  "max_component"
  "values"
  "of"
  "score"
  "quantiles"
  "baseline"
  "segments"
  "against"
  "to"
  "as"
  "capture"
  "camera_height"
  "steps"
  "layout"
  "merge"
  "texture"
  "hotspot"
  "at"
  "room"
  "output"
  "trend"
  "over"
  "flow"
  "contribution"
  "kpi"
] @keyword

(hotspot_room
  "in" @keyword)

(check_unique
  "unique" @keyword)

[
  (period_unit)
  (rfm_kind)
  (step_upright)
] @keyword

[
  (pii)
  (not_null)
  (id_strength)
  (id_unique)
  (fn_flag)
] @keyword.modifier

[
  "case"
  "else"
] @keyword.conditional

[
  "and"
  "or"
] @keyword.operator

(unary_expression
  "not" @keyword.operator)

(in_expression
  [
    "not"
    "in"
  ] @keyword.operator)

; ---------------------------------------------------------------- definitions

(source
  name: (identifier) @type)

(dimension
  name: (identifier) @type)

(fact
  name: (identifier) @type)

(oneid
  name: (identifier) @type)

(function
  name: (identifier) @function)

(root
  name: (identifier) @constant)

(atomic
  name: (identifier) @constant)

(modifier
  name: (identifier) @constant)

(period
  name: (identifier) @constant)

(derived
  name: (identifier) @constant)

(composite
  name: (identifier) @constant)

(tag
  name: (identifier) @constant)

(aipl
  name: (identifier) @constant)

(stage
  name: (identifier) @constant)

(rfm
  name: (identifier) @constant)

(rfm_segment
  code: (identifier) @constant)

(audience
  name: (identifier) @constant)

(scan
  name: (identifier) @constant)

(hotspot
  name: (identifier) @constant)

(dashboard
  name: (identifier) @constant)

; ---------------------------------------------------------------- references outside expressions

; Tables and entities.
(dimension
  source: (identifier) @type)

(fact
  source: (identifier) @type)

(modifier
  fact: (identifier) @type)

(link
  source: (identifier) @type)

(breakdown_of
  table: (identifier) @type)

(check_unique
  table: (identifier) @type)

(fact_entity
  entity: (identifier) @type)

(tag
  entity: (identifier) @type)

(aipl
  entity: (identifier) @type)

(rfm
  entity: (identifier) @type)

(audience
  entity: (identifier) @type)

(granularity
  dimension: (identifier) @type)

(widget_contribution
  dimension: (identifier) @type)

; Metrics, periods, modifiers, models and audiences.
(derived
  metric: (identifier) @constant)

(derived
  qualifier: (identifier) @constant)

(widget_kpi
  metric: (identifier) @constant)

(widget_trend
  model: (identifier) @constant)

(widget_flow
  model: (identifier) @constant)

(compare
  audience: (identifier) @constant)

(compare
  baseline: (identifier) @constant)

(compare
  dimension: (identifier) @constant)

(route
  audience: (identifier) @constant)

(export
  audience: (identifier) @constant)

(route_arm
  channel: (identifier) @label)

(route_else
  channel: (identifier) @label)

; Columns, keys, attributes, bindings and OneID identifiers.
(column
  name: (identifier) @property)

(dim_key
  column: (identifier) @property)

(dim_attributes
  column: (identifier) @property)

(fact_grain
  column: (identifier) @property)

(fact_time
  column: (identifier) @property)

(binding
  name: (identifier) @property)

(check_unique
  column: (identifier) @property)

(breakdown_of
  dimension: (identifier) @property)

(export_col
  alias: (identifier) @property)

(oneid_identifier
  name: (identifier) @property)

(link_field
  identifier: (identifier) @property)

(link_field
  column: (identifier) @property)

(id_scoped
  column: (identifier) @property)

(reject_values
  identifier: (identifier) @property)

(field_expression
  field: (identifier) @property)

(index_expression
  qualifier: (identifier) @constant)

; Types and units.
(col_type
  name: (identifier) @type.builtin)

(param
  type: (identifier) @type.builtin)

(function
  return_type: (identifier) @type.builtin)

(unit_clause
  unit: (identifier) @type.builtin)

(unit_clause
  argument: (identifier) @constant)

(hotspot_content
  kind: (identifier) @type.builtin)

; Functions, parameters and fixed words.
(call
  function: (identifier) @function.call)

(location
  format: (identifier) @function.call)

(step_layout
  method: (identifier) @function.call)

(id_normalize
  function: (identifier) @function.call)

(param
  name: (identifier) @variable.parameter)

(named_argument
  name: (identifier) @variable.parameter)

(naming_rule
  kind: (identifier) @keyword)

(severity
  level: (identifier) @constant.builtin)

(rfm_baseline
  baseline: (identifier) @constant.builtin)

(step_merge
  by: (identifier) @constant.builtin)

(hotspot_room
  room: (identifier) @constant)

(period_to_date) @constant.builtin

; ---------------------------------------------------------------- expressions

; Names in expressions: every slot that holds an expression has one of these fields
; (`value` and `condition` hold nothing else), or is an argument or a parenthesis.
(_
  left: (identifier) @variable)

(_
  right: (identifier) @variable)

(_
  operand: (identifier) @variable)

(_
  value: (identifier) @variable)

(_
  condition: (identifier) @variable)

(_
  object: (identifier) @variable)

(_
  item: (identifier) @variable)

(widget_contribution
  target: (identifier) @variable)

(arguments
  (identifier) @variable)

(parenthesized_expression
  (identifier) @variable)

; ---------------------------------------------------------------- literals

(string) @string

(escape_sequence) @string.escape

[
  (number)
  (integer)
  (signed_number)
  (quantity)
  (signed_quantity)
] @number

(boolean) @boolean

(null) @constant.builtin

(comment) @comment

; ---------------------------------------------------------------- operators, punctuation

[
  "=="
  "!="
  "<"
  "<="
  ">"
  ">="
  "??"
  "+"
  "-"
  "*"
  "/"
  "%"
  "="
  "=>"
  "->"
] @operator

(optional_mark) @operator

[
  "("
  ")"
  "["
  "]"
  "{"
  "}"
] @punctuation.bracket

[
  ","
  "."
  ":"
] @punctuation.delimiter
