'use strict';

// Loads src/extension.js with stand-ins for the `vscode` API and for the language client,
// and checks what it would run: the command line, the watched files, the document
// selector, the output channel, the error when the binary is missing, and the stop on
// deactivation. (The real client needs a running VS Code.)

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Module = require('node:module');

const EXTENSION = path.join(__dirname, '..', 'src', 'extension.js');

/** A fresh fake world: settings, recorded calls, and the loaded extension. */
function load({ settings = {}, startError } = {}) {
  const world = {
    settings: { 'server.path': 'mj', 'server.extraArgs': [], ...settings },
    clients: [],
    errors: [],
    watchers: [],
    channels: [],
    commands: {},
    configListeners: [],
  };

  const vscode = {
    workspace: {
      workspaceFolders: undefined,
      getConfiguration: (section) => {
        assert.equal(section, 'mj');
        return { get: (key) => world.settings[key] };
      },
      createFileSystemWatcher: (glob) => {
        const w = { glob, disposed: false, dispose() { this.disposed = true; } };
        world.watchers.push(w);
        return w;
      },
      onDidChangeConfiguration: (listener) => {
        world.configListeners.push(listener);
        return { dispose() {} };
      },
    },
    window: {
      createOutputChannel: (name) => {
        const c = { name, lines: [], appendLine(l) { this.lines.push(l); }, show() {}, dispose() {} };
        world.channels.push(c);
        return c;
      },
      showErrorMessage: async (message) => {
        world.errors.push(message);
        return undefined;
      },
    },
    commands: {
      registerCommand: (id, fn) => {
        world.commands[id] = fn;
        return { dispose() {} };
      },
      executeCommand: async () => undefined,
    },
  };

  class FakeLanguageClient {
    constructor(id, name, serverOptions, clientOptions) {
      Object.assign(this, { id, name, serverOptions, clientOptions, started: false, stopped: false });
      world.clients.push(this);
    }
    async start() {
      if (startError) throw startError;
      this.started = true;
    }
    needsStop() {
      return this.started && !this.stopped;
    }
    async stop() {
      this.stopped = true;
    }
  }
  const languageclient = { LanguageClient: FakeLanguageClient, RevealOutputChannelOn: { Never: 4 } };

  const realLoad = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request === 'vscode') return vscode;
    if (request === 'vscode-languageclient/node') return languageclient;
    return realLoad.call(this, request, parent, isMain);
  };
  try {
    delete require.cache[require.resolve(EXTENSION)];
    world.ext = require(EXTENSION);
  } finally {
    Module._load = realLoad;
  }
  world.vscode = vscode;
  world.context = { subscriptions: [] };
  return world;
}

/** A directory with an executable `mj` (a shell script; it is never run). */
function fakeBinDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mj-vscode-test-'));
  const bin = path.join(dir, process.platform === 'win32' ? 'mj.cmd' : 'mj');
  fs.writeFileSync(bin, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return { dir, bin };
}

function withPath(dir, fn) {
  const old = process.env.PATH;
  process.env.PATH = dir + path.delimiter + (old || '');
  return Promise.resolve(fn()).finally(() => {
    process.env.PATH = old;
  });
}

test('activate starts `mj lsp` over stdio with watchers on *.mj and mj.toml', async () => {
  const { dir, bin } = fakeBinDir();
  await withPath(dir, async () => {
    const w = load();
    await w.ext.activate(w.context);

    assert.equal(w.channels.length, 1);
    assert.equal(w.channels[0].name, 'mj');
    assert.equal(w.clients.length, 1);
    const c = w.clients[0];
    assert.equal(c.id, 'mj', 'the id makes the client read mj.trace.server');
    assert.equal(c.started, true);
    assert.equal(c.serverOptions.command, bin, 'the bare name "mj" is found on PATH');
    assert.deepEqual(c.serverOptions.args, ['lsp']);
    assert.equal(c.serverOptions.transport, undefined, 'no transport: it would add --stdio');
    assert.deepEqual(c.clientOptions.documentSelector.map((s) => s.language), ['mj', 'mj']);
    assert.deepEqual(c.clientOptions.synchronize.fileEvents.map((x) => x.glob), ['**/*.mj', '**/mj.toml']);
    assert.equal(c.clientOptions.outputChannel, w.channels[0]);
    assert.ok(w.commands['mj.restartServer'], 'registers the restart command');
    assert.deepEqual(w.errors, []);

    await w.ext.deactivate();
    assert.equal(c.stopped, true, 'deactivate stops the client');
    assert.ok(w.watchers.every((x) => x.disposed), 'and disposes the watchers');
  });
});

test('mj.server.path and mj.server.extraArgs make the command line', async () => {
  const { bin } = fakeBinDir();
  const w = load({ settings: { 'server.path': bin, 'server.extraArgs': ['--log', 'debug'] } });
  await w.ext.activate(w.context);
  assert.equal(w.clients[0].serverOptions.command, bin);
  assert.deepEqual(w.clients[0].serverOptions.args, ['lsp', '--log', 'debug']);
  await w.ext.deactivate();
});

test('a changed mj.server setting restarts the server', async () => {
  const { bin } = fakeBinDir();
  const w = load({ settings: { 'server.path': bin } });
  await w.ext.activate(w.context);
  w.settings['server.extraArgs'] = ['-v'];
  w.configListeners[0]({ affectsConfiguration: (s) => s === 'mj.server' });
  await w.commands['mj.restartServer'](); // queued after the restart above
  assert.equal(w.clients[0].stopped, true);
  assert.deepEqual(w.clients[w.clients.length - 1].serverOptions.args, ['lsp', '-v']);
  assert.equal(w.clients.filter((c) => !c.stopped).length, 1, 'one client runs');
  await w.ext.deactivate();
});

test('a missing binary gives a clear error and starts no client', async () => {
  const missing = path.join(os.tmpdir(), 'no-such-dir-mj', 'mj');
  const w = load({ settings: { 'server.path': missing } });
  await w.ext.activate(w.context);
  assert.equal(w.clients.length, 0);
  assert.equal(w.errors.length, 1);
  assert.match(w.errors[0], /cannot start the language server/);
  assert.ok(w.errors[0].includes(missing), 'names the path');
  assert.match(w.errors[0], /mj\.server\.path/);

  const w2 = load({ settings: { 'server.path': 'mj-surely-not-on-path' } });
  await w2.ext.activate(w2.context);
  assert.equal(w2.clients.length, 0);
  assert.match(w2.errors[0], /"mj-surely-not-on-path" was not found on PATH/);
  await w2.ext.deactivate();
});

test('a server that fails to start gives an error', async () => {
  const { bin } = fakeBinDir();
  const w = load({ settings: { 'server.path': bin }, startError: new Error('spawn EACCES') });
  await w.ext.activate(w.context);
  assert.equal(w.errors.length, 1);
  assert.match(w.errors[0], /could not be started: spawn EACCES/);
  await w.ext.deactivate();
});

test('~ in mj.server.path is the home directory', () => {
  const w = load({ settings: { 'server.path': '~/bin/mj' } });
  assert.equal(w.ext.serverCommand().command, path.join(os.homedir(), 'bin', 'mj'));
});
