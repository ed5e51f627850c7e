'use strict';

// Tokenizes real .mj files with the TextMate grammar (the same engine VS Code uses:
// vscode-textmate on the Oniguruma WebAssembly build) and checks the scopes of the
// interesting tokens; checks that the manifest and the language configuration agree.
//
// Run with `npm test` (node --test).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const EXT = path.join(__dirname, '..');
const REPO = path.join(__dirname, '..', '..', '..');
const EXAMPLES = path.join(REPO, 'examples');
const MEIJIA = path.join(EXAMPLES, 'meijia');
const STDLIB = path.join(REPO, 'stdlib', 'std.mj');
const GRAMMAR = path.join(EXT, 'syntaxes', 'mj.tmLanguage.json');

const pkg = JSON.parse(fs.readFileSync(path.join(EXT, 'package.json'), 'utf8'));
const langConfig = JSON.parse(fs.readFileSync(path.join(EXT, 'language-configuration.json'), 'utf8'));

// ------------------------------------------------------------------ set-up

let grammarPromise;
function loadGrammar() {
  if (!grammarPromise) {
    const wasmPath = path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm');
    const wasm = fs.readFileSync(wasmPath);
    const onigLib = oniguruma
      .loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength))
      .then(() => ({
        createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
        createOnigString: (s) => new oniguruma.OnigString(s),
      }));
    const registry = new vsctm.Registry({
      onigLib,
      loadGrammar: async (scopeName) => {
        if (scopeName !== 'source.mj') return null;
        return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR);
      },
    });
    grammarPromise = registry.loadGrammar('source.mj');
  }
  return grammarPromise;
}

/** Tokenizes a whole text; returns the lines' tokens and the rule stack at the end. */
async function tokenize(text) {
  const grammar = await loadGrammar();
  assert.ok(grammar, 'the grammar source.mj loads');
  let state = vsctm.INITIAL;
  const lines = [];
  for (const line of text.split(/\r?\n/)) {
    const r = grammar.tokenizeLine(line, state);
    lines.push({
      line,
      tokens: r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), start: t.startIndex, end: t.endIndex, scopes: t.scopes })),
    });
    state = r.ruleStack;
  }
  return { lines, state };
}

function read(file) {
  return fs.readFileSync(file, 'utf8');
}

/** The 0-based index of the line of `file` equal to `wanted` (trimmed end), which must exist. */
function findLine(text, wanted) {
  const i = text.split(/\r?\n/).findIndex((l) => l.trimEnd() === wanted);
  assert.notEqual(i, -1, `the example still has the line ${JSON.stringify(wanted)}`);
  return i;
}

/**
 * The scopes of the token where the `nth` occurrence of `needle` in the line starts. A
 * needle that is a word is looked for as a whole word, and must not be cut in two.
 */
function scopesOf(tokLine, needle, nth = 0) {
  const isWord = /^[A-Za-z0-9_]+$/.test(needle);
  const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(isWord ? `(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])` : escaped, 'g');
  let m;
  for (let k = 0; k <= nth; k++) {
    m = re.exec(tokLine.line);
    assert.ok(m, `${JSON.stringify(needle)} occurs ${nth + 1} time(s) in ${JSON.stringify(tokLine.line)}`);
  }
  const at = m.index;
  const tok = tokLine.tokens.find((t) => t.start <= at && at < t.end);
  assert.ok(tok, `a token covers ${JSON.stringify(needle)}`);
  if (isWord) {
    // Tokens inside the word must all lie in the first one's innermost scope
    // (15d is a number and a suffix, both in constant.numeric.quantity).
    const inner = tok.scopes[tok.scopes.length - 1];
    for (const t of tokLine.tokens.filter((t) => t.start < at + needle.length && t.end > at)) {
      assert.ok(t.scopes.includes(inner),
        `${JSON.stringify(needle)} is not cut in two in ${JSON.stringify(tokLine.line)}: ${JSON.stringify(t.text)} lacks ${inner}`);
    }
  }
  return tok.scopes;
}

function hasScope(scopes, prefix) {
  return scopes.some((s) => s === prefix || s.startsWith(prefix + '.'));
}

function assertScope(tokLine, needle, prefix, nth = 0) {
  const scopes = scopesOf(tokLine, needle, nth);
  assert.ok(hasScope(scopes, prefix), `${JSON.stringify(needle)} in ${JSON.stringify(tokLine.line.trim())} has a ${prefix} scope; got ${scopes.join(' ')}`);
}

function assertNoScope(tokLine, needle, prefix, nth = 0) {
  const scopes = scopesOf(tokLine, needle, nth);
  assert.ok(!hasScope(scopes, prefix), `${JSON.stringify(needle)} in ${JSON.stringify(tokLine.line.trim())} has no ${prefix} scope; got ${scopes.join(' ')}`);
}

/** Tokenizes a whole file (so block state is right) and returns its line equal to `wanted`. */
async function lineOf(file, wanted) {
  const text = read(file);
  const { lines } = await tokenize(text);
  return lines[findLine(text, wanted)];
}

function listMj(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listMj(p));
    else if (entry.name.endsWith('.mj')) out.push(p);
  }
  return out.sort();
}

// ------------------------------------------------------------------ items and expressions

test('fact header: keyword, entity name, display string, where, ==', async () => {
  const l = await lineOf(path.join(MEIJIA, 'model.mj'), 'fact pay_order "支付订单" from pos_order where status == "paid" {');
  assertScope(l, 'fact', 'keyword.other.item');
  assertScope(l, 'pay_order', 'entity.name.type');
  assertScope(l, '"支付订单"', 'string.quoted.double');
  assertScope(l, 'from', 'keyword.other');
  assertNoScope(l, 'pos_order', 'keyword');
  assertNoScope(l, 'pos_order', 'entity.name');
  assertScope(l, 'where', 'keyword.other');
  assertNoScope(l, 'status', 'keyword');
  assertScope(l, '==', 'keyword.operator.comparison');
  assertScope(l, '"paid"', 'string.quoted.double');
  assertScope(l, '{', 'punctuation.section.block.begin');
});

test('comments: a whole line, and after a statement', async () => {
  const model = path.join(MEIJIA, 'model.mj');
  const whole = await lineOf(model, '// DWD / DWS: dimensions, business processes and metrics.');
  assert.equal(whole.tokens.length, 2, 'the comment is the // and the rest');
  for (const t of whole.tokens) assert.ok(hasScope(t.scopes, 'comment.line.double-slash'), `${t.text} is comment`);
  assertScope(whole, '//', 'punctuation.definition.comment');

  const trailing = await lineOf(model, '  entity consumer // keyed by the OneID of the row');
  assertScope(trailing, 'entity', 'keyword.other.statement');
  assertNoScope(trailing, 'consumer', 'comment');
  assertScope(trailing, '// keyed', 'comment.line.double-slash');
  assertScope(trailing, 'OneID', 'comment.line.double-slash');

  // `//` inside a string is part of the string.
  const { lines } = await tokenize('source s from csv("http://x/y.csv") {');
  assertScope(lines[0], '//x', 'string.quoted.double');
  assertNoScope(lines[0], '//x', 'comment');
});

test('quantities: 15d, 3km, 1.6m, 10deg, -30d, 500cny; not 10mo or 30d_x', async () => {
  const a = await lineOf(path.join(MEIJIA, 'assets.mj'), '  A "认知" = exists(media_touch where kind == "impression", window = 15d)');
  assertScope(a, '15d', 'constant.numeric.quantity');
  assertScope(a, 'd)', 'keyword.other.unit.suffix');
  assertScope(a, 'exists', 'support.function');
  assertScope(a, 'window', 'variable.parameter');
  assertScope(a, 'where', 'keyword.other');
  assertScope(a, '"impression"', 'string.quoted.double');

  const aud = await lineOf(path.join(MEIJIA, 'audiences.mj'), '  distance(nearest(store)) <= 3km                              => outdoor_media');
  assertScope(aud, '3km', 'constant.numeric.quantity');
  assertScope(aud, '<=', 'keyword.operator.comparison');
  assertScope(aud, '=>', 'keyword.operator.arrow');

  const showroom = path.join(MEIJIA, 'showroom.mj');
  const cam = await lineOf(showroom, '  camera_height 1.6m');
  assertScope(cam, 'camera_height', 'keyword.other.statement');
  assertScope(cam, '1.6m', 'constant.numeric.quantity');
  const layout = await lineOf(showroom, '    layout manhattan(tolerance = 10deg)');
  assertScope(layout, '10deg', 'constant.numeric.quantity');
  assertScope(layout, 'tolerance', 'variable.parameter');
  const flow = await lineOf(showroom, '  flow brand from -30d');
  assertScope(flow, '-', 'keyword.operator.arithmetic');
  assertScope(flow, '30d', 'constant.numeric.quantity');

  const { lines } = await tokenize('audience a on consumer = pay_amt_365d >= 500cny and x > 10mo and y == 30d_pay_amt and z == 1024');
  assertScope(lines[0], '500cny', 'constant.numeric.quantity');
  assertNoScope(lines[0], '10mo', 'constant.numeric');
  assertNoScope(lines[0], '30d_pay_amt', 'constant.numeric');
  assertScope(lines[0], '1024', 'constant.numeric.decimal');
  assertNoScope(lines[0], '1024', 'constant.numeric.quantity');
});

test('derived: pay_amt[30d, online] by consumer', async () => {
  const l = await lineOf(path.join(MEIJIA, 'model.mj'), 'derived online_pay_amt_30d    "最近30天线上支付金额" = pay_amt[30d, online] by consumer');
  assertScope(l, 'derived', 'keyword.other.item');
  assertScope(l, 'online_pay_amt_30d', 'entity.name.function');
  assertScope(l, 'pay_amt', 'variable.other.metric');
  assertScope(l, '[', 'punctuation.section.brackets.begin');
  assertScope(l, '30d', 'variable.other.period');
  assertNoScope(l, '30d', 'constant.numeric');
  assertScope(l, 'online', 'variable.other.modifier');
  assertScope(l, ']', 'punctuation.section.brackets.end');
  assertScope(l, 'by', 'keyword.other');
  assertNoScope(l, 'consumer', 'keyword');
});

test('case { … else => … } and word operators', async () => {
  const assets = path.join(MEIJIA, 'assets.mj');
  const text = read(assets);
  const { lines } = await tokenize(text);
  const head = lines[findLine(text, 'tag price_level "消费档次" on consumer values ("高端", "中端", "大众") = case {')];
  assertScope(head, 'tag', 'keyword.other.item');
  assertScope(head, 'price_level', 'entity.name.function');
  assertScope(head, 'on', 'keyword.other');
  assertScope(head, 'values', 'keyword.other');
  assertScope(head, 'case', 'keyword.control.conditional');
  assertScope(head, '{', 'punctuation.section.block.begin');

  const arm = lines[findLine(text, '  pay_amt_365d >= 50000 => "高端"')];
  assertScope(arm, '50000', 'constant.numeric.decimal');
  assertScope(arm, '=>', 'keyword.operator.arrow');
  const otherwise = lines[findLine(text, '  else                  => "大众"')];
  assertScope(otherwise, 'else', 'keyword.control.conditional');
  assertScope(otherwise, '=>', 'keyword.operator.arrow');
  assertScope(otherwise, '"大众"', 'string.quoted.double');

  const l = lines[findLine(text, '  L "忠诚" = pay_ord_cnt_365d >= 2 or latest(crm_member.level) in ("gold", "platinum")')];
  assertScope(l, 'or', 'keyword.operator.logical');
  assertScope(l, 'in', 'keyword.operator.word');
  assertScope(l, '.', 'punctuation.accessor');
  assertScope(l, 'level', 'variable.other.property');

  const coalesce = lines[findLine(text, 'tag city "城市" on consumer = latest(crm_member.city) ?? "未知"')];
  assertScope(coalesce, '??', 'keyword.operator.coalesce');

  const { lines: lit } = await tokenize('check x.y != null or true and not false');
  assertScope(lit[0], 'null', 'constant.language.null');
  assertScope(lit[0], 'true', 'constant.language.boolean');
  assertScope(lit[0], 'not', 'keyword.operator.logical');
  assertScope(lit[0], '!=', 'keyword.operator.comparison');
});

test('source block: columns, types, not null, pii, unit', async () => {
  const sources = path.join(MEIJIA, 'sources.mj');
  const head = await lineOf(sources, 'source pos_order "门店订单" from parquet("data/pos/orders/*.parquet") {');
  assertScope(head, 'source', 'keyword.other.item');
  assertScope(head, 'pos_order', 'entity.name.type');
  assertScope(head, 'parquet', 'support.function');

  const amount = await lineOf(sources, '  amount    decimal(18,2) unit currency(CNY)');
  assertScope(amount, 'amount', 'variable.other.column');
  assertScope(amount, 'decimal', 'support.type');
  assertScope(amount, '18', 'constant.numeric');
  assertScope(amount, 'unit', 'keyword.other.unit');
  assertScope(amount, 'currency', 'support.type.unit');
  assertScope(amount, 'CNY', 'constant.other.currency');

  const id = await lineOf(sources, '  order_id  string not null');
  assertScope(id, 'string', 'support.type');
  assertScope(id, 'not', 'keyword.operator.logical');
  assertScope(id, 'null', 'constant.language.null');

  const phone = await lineOf(sources, '  phone     string? pii');
  assertScope(phone, '?', 'keyword.operator.optional');
  assertScope(phone, 'pii', 'keyword.other');

  // The block ends at its brace: the next item's head is an item again, not a column.
  const crm = await lineOf(sources, 'source crm_member "CRM会员" from csv("data/crm/member.csv", header = true) {');
  assertScope(crm, 'crm_member', 'entity.name.type');
  assertNoScope(crm, 'crm_member', 'variable.other.column');
  assertScope(crm, 'header', 'variable.parameter');
  assertScope(crm, 'true', 'constant.language.boolean');
});

test('statements of oneid, rfm, scan, dashboard, glossary; period and fn lines', async () => {
  const oneid = path.join(MEIJIA, 'oneid.mj');
  const head = await lineOf(oneid, 'oneid consumer "消费者" {');
  assertScope(head, 'oneid', 'keyword.other.item');
  assertScope(head, 'consumer', 'entity.name.type');
  const ident = await lineOf(oneid, '  identifier member_id strong unique // two member_ids never share a person');
  assertScope(ident, 'identifier', 'keyword.other.statement');
  assertScope(ident, 'strong', 'keyword.other');
  assertScope(ident, 'unique', 'keyword.other');
  const rej = await lineOf(oneid, '  reject frequent above 50 // a value shared by more records is junk');
  assertScope(rej, 'reject', 'keyword.other.statement');
  assertScope(rej, 'frequent', 'keyword.other');
  assertScope(rej, 'above', 'keyword.other');
  assertScope(rej, '50', 'constant.numeric');
  const scoped = await lineOf(oneid, '  identifier openid    scoped by appid');
  assertScope(scoped, 'scoped', 'keyword.other');
  const maxc = await lineOf(oneid, '  max_component 200');
  assertScope(maxc, 'max_component', 'keyword.other.statement');

  const rfm = await lineOf(path.join(MEIJIA, 'assets.mj'), '  recency   = days_since(max(pay_order.paid_at)) score [30, 90]');
  assertScope(rfm, 'recency', 'keyword.other.statement');
  assertScope(rfm, 'score', 'keyword.other');
  assertScope(rfm, '30', 'constant.numeric.decimal');

  const showroom = path.join(MEIJIA, 'showroom.mj');
  const hs = await lineOf(showroom, '  hotspot intro video "media/intro.mp4" in room living');
  assertScope(hs, 'hotspot', 'keyword.other.statement');
  assertScope(hs, 'video', 'support.constant.hotspot');
  assertScope(hs, 'in', 'keyword.operator');
  assertScope(hs, 'room', 'keyword.other');
  const trend = await lineOf(showroom, '  trend brand over 90d by channel');
  assertScope(trend, 'trend', 'keyword.other.statement');
  assertScope(trend, 'over', 'keyword.other');
  assertScope(trend, '90d', 'constant.numeric.quantity');
  const dash = await lineOf(showroom, 'dashboard aipl_assets "全域AIPL人群资产" {');
  assertScope(dash, 'aipl_assets', 'entity.name.type');

  const glossary = path.join(MEIJIA, 'glossary.mj');
  const root = await lineOf(glossary, '  root 3d       "最近3天"');
  assertScope(root, 'root', 'keyword.other.statement');
  assertScope(root, '3d', 'variable.other.constant.root');
  const naming = await lineOf(glossary, '  derived = "{modifiers}_{atomic}_{period}"');
  assertNoScope(naming, 'derived', 'keyword.other.item');
  assertScope(naming, '{atomic}', 'constant.other.placeholder');

  const std = read(STDLIB);
  const { lines } = await tokenize(std);
  const period = lines[findLine(std, 'period 30d  "最近30天"     = last 30 days')];
  assertScope(period, 'period', 'keyword.other.item');
  assertScope(period, '30d', 'entity.name.function');
  assertScope(period, 'last', 'keyword.other');
  assertScope(period, '30 ', 'constant.numeric');
  assertScope(period, 'days', 'keyword.other.unit');
  const td = lines[findLine(std, 'period mtd  "月初至今"     = mtd')];
  assertScope(td, 'mtd', 'support.constant.period', 1);

  const fn = lines[findLine(std, 'fn latest(x: any, window: duration?) -> T aggregate window "最近一次的值"')];
  assertScope(fn, 'fn', 'keyword.other.item');
  assertScope(fn, 'latest', 'entity.name.function');
  assertScope(fn, 'window', 'variable.parameter');
  assertScope(fn, 'duration', 'support.type');
  assertScope(fn, '->', 'keyword.operator.arrow');
  assertScope(fn, 'aggregate', 'storage.modifier');
  assertScope(fn, 'window', 'storage.modifier', 1);
  assertScope(fn, '"最近一次的值"', 'string.quoted.double');
});

test('the scope names carry the item kind ($1 in capture names is expanded)', async () => {
  const { lines } = await tokenize('dimension store "门店" from erp_store {\n}\naudience a on consumer = true');
  assert.ok(scopesOf(lines[0], 'dimension').includes('keyword.other.item.dimension.mj'));
  assert.ok(scopesOf(lines[0], 'store').includes('entity.name.type.dimension.mj'));
  assert.ok(scopesOf(lines[2], 'a').includes('entity.name.function.audience.mj'));
});

test('an export column named oneid is not an item keyword', async () => {
  const l = await lineOf(path.join(MEIJIA, 'audiences.mj'), '  sha256(phone) as phone_sha256');
  assertScope(l, 'sha256', 'support.function');
  assertScope(l, 'as', 'keyword.other');
  const text = read(path.join(MEIJIA, 'audiences.mj'));
  const { lines } = await tokenize(text);
  const i = text.split('\n').findIndex((x) => x === '  oneid');
  assert.notEqual(i, -1);
  assertNoScope(lines[i], 'oneid', 'keyword.other.item');
});

// ------------------------------------------------------------------ every file

test('every example and library .mj file tokenizes and ends outside any block rule', async () => {
  const files = [...listMj(EXAMPLES), STDLIB];
  const diag = path.join(REPO, 'tests', 'diagnostics');
  if (fs.existsSync(diag)) files.push(...listMj(diag));
  assert.ok(files.length >= 9, `found the example files (${files.length})`);
  assert.ok(files.some((f) => f.endsWith(path.join('meijia', 'model.mj'))));
  for (const file of files) {
    const text = read(file);
    const { lines, state } = await tokenize(text);
    assert.equal(lines.length, text.split(/\r?\n/).length);
    for (const { line, tokens } of lines) {
      // Tokens cover each line without gaps.
      let pos = 0;
      for (const t of tokens) {
        assert.equal(t.start, pos, `${path.relative(REPO, file)}: contiguous tokens in ${JSON.stringify(line)}`);
        pos = t.end;
      }
      assert.ok(pos >= line.length, `${path.relative(REPO, file)}: tokens cover ${JSON.stringify(line)}`);
      for (const t of tokens) assert.ok(t.scopes[0] === 'source.mj');
    }
    // A begin/end rule (source block, call, parentheses, string) left open at the end of
    // a file that parses would colour everything after it wrongly.
    if (!path.relative(REPO, file).includes('.fail')) {
      assert.equal(state.depth, 1, `${path.relative(REPO, file)} ends in the top-level state`);
    }
  }
});

test('an unterminated string ends at the end of its line', async () => {
  const { lines, state } = await tokenize('tag t "half on consumer = true\natomic pay_amt = sum(pay_order.amount)');
  assertScope(lines[0], 'consumer', 'string.quoted.double');
  assertScope(lines[1], 'atomic', 'keyword.other.item');
  assertNoScope(lines[1], 'atomic', 'string');
  assertScope(lines[1], 'pay_amt', 'entity.name.function');
  assert.equal(state.depth, 1);
});

test('a missing closing parenthesis does not swallow the next item', async () => {
  const { lines, state } = await tokenize('tag t on consumer = latest(crm_member.city\nfact f from s {\n  grain id\n}');
  assertScope(lines[1], 'fact', 'keyword.other.item');
  assertScope(lines[1], 'f', 'entity.name.type');
  assertNoScope(lines[1], 'fact', 'meta.function-call');
  assertScope(lines[2], 'grain', 'keyword.other.statement');
  assert.equal(state.depth, 1);
});

// ------------------------------------------------------------------ manifest and configuration

test('package.json contributes the language, the grammar and the settings consistently', () => {
  const [language] = pkg.contributes.languages;
  assert.equal(language.id, 'mj');
  assert.deepEqual(language.extensions, ['.mj']);
  assert.ok(fs.existsSync(path.join(EXT, language.configuration)), 'language configuration exists');

  const [grammar] = pkg.contributes.grammars;
  assert.equal(grammar.language, language.id);
  assert.equal(grammar.scopeName, 'source.mj');
  const grammarFile = path.join(EXT, grammar.path);
  assert.ok(fs.existsSync(grammarFile), 'grammar file exists');
  const raw = JSON.parse(read(grammarFile));
  assert.equal(raw.scopeName, grammar.scopeName);
  // Every include refers to a repository entry that exists.
  const includes = JSON.stringify(raw).match(/"include":"#[^"]+"/g) || [];
  for (const inc of includes) {
    const key = inc.slice('"include":"#'.length, -1);
    assert.ok(raw.repository[key], `repository has ${key}`);
  }

  assert.deepEqual(pkg.activationEvents, ['onLanguage:' + language.id]);
  assert.ok(fs.existsSync(path.join(EXT, pkg.main)), 'main exists');
  assert.match(pkg.main, /\.js$/);

  const props = pkg.contributes.configuration.properties;
  assert.equal(props['mj.server.path'].default, 'mj');
  assert.equal(props['mj.server.extraArgs'].type, 'array');
  assert.deepEqual(props['mj.trace.server'].enum, ['off', 'messages', 'verbose']);
});

test('package.json pins its dependencies, fits the language client, and has the repo licence', () => {
  const all = { ...pkg.dependencies, ...pkg.devDependencies };
  for (const [name, version] of Object.entries(all)) {
    assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is pinned`);
  }
  assert.match(pkg.devDependencies['@vscode/vsce'], /^3\.9\./);

  const semver = require('semver');
  const client = JSON.parse(read(require.resolve('vscode-languageclient/package.json')));
  assert.equal(client.version, pkg.dependencies['vscode-languageclient']);
  assert.ok(
    semver.gte(semver.minVersion(pkg.engines.vscode), semver.minVersion(client.engines.vscode)),
    `engines.vscode ${pkg.engines.vscode} is at least the client's ${client.engines.vscode}`,
  );

  const cargo = read(path.join(REPO, 'Cargo.toml'));
  const license = /^license\s*=\s*"([^"]+)"/m.exec(cargo);
  assert.ok(license, 'Cargo.toml has a license');
  assert.equal(pkg.license, license[1]);
  assert.ok(fs.existsSync(path.join(EXT, 'LICENSE')), 'LICENSE file exists');
});

test('language-configuration.json: comments, brackets, words, indentation, folding', () => {
  assert.equal(langConfig.comments.lineComment, '//');
  assert.equal(langConfig.comments.blockComment, undefined, 'mj has no block comments');
  const pairs = langConfig.brackets.map((b) => b.join(''));
  assert.deepEqual(pairs.sort(), ['()', '[]', '{}']);
  const closing = langConfig.autoClosingPairs.map((p) => p.open + p.close);
  for (const p of ['{}', '[]', '()', '""']) assert.ok(closing.includes(p), `auto-closes ${p}`);

  const word = new RegExp(langConfig.wordPattern, 'g');
  const words = (s) => s.match(word);
  assert.deepEqual(words('pay_amt[30d, online]'), ['pay_amt', '30d', 'online']);
  assert.deepEqual(words('nearest(store).service_radius_km <= 3km'), ['nearest', 'store', 'service_radius_km', '3km']);
  assert.deepEqual(words('camera_height 1.6m'), ['camera_height', '1.6m']);

  const inc = new RegExp(langConfig.indentationRules.increaseIndentPattern);
  const dec = new RegExp(langConfig.indentationRules.decreaseIndentPattern);
  assert.ok(inc.test('fact pay_order "支付订单" from pos_order where status == "paid" {'));
  assert.ok(inc.test('tag t on consumer = case { // comment'));
  assert.ok(inc.test('  link febrl1 ('));
  assert.ok(!inc.test('  attributes { name, city }'));
  assert.ok(!inc.test('  measures { amount, qty }'));
  assert.ok(inc.test('tag t "a // b" on consumer = case {'), '// in a string is not a comment');
  assert.ok(!inc.test('atomic x = sum(y) // {'), 'a brace in a comment does not indent');
  assert.ok(!inc.test('root x "{"'), 'a brace in a string does not indent');
  assert.ok(dec.test('}'));
  assert.ok(dec.test('  )'));
  assert.ok(!dec.test('  grain order_id'));

  const start = new RegExp(langConfig.folding.markers.start);
  const end = new RegExp(langConfig.folding.markers.end);
  assert.ok(start.test('oneid consumer "消费者" {'));
  assert.ok(end.test('}'));
  assert.ok(!start.test('  dims { store = store_id, category, channel }'));
});
