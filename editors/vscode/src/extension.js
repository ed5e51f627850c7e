'use strict';

// The mj extension: runs `mj lsp` (the language server built into the mj binary) over
// stdio for .mj documents. Syntax highlighting comes from the TextMate grammar in
// syntaxes/ and works without the server.

const fs = require('fs');
const os = require('os');
const path = require('path');
const vscode = require('vscode');
const { LanguageClient, RevealOutputChannelOn } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.Disposable[]} */
let clientDisposables = [];
/** @type {vscode.OutputChannel | undefined} */
let outputChannel;
/** The last start or restart, so that restarts do not overlap. */
let pending = Promise.resolve();

/**
 * The server command from the settings: `mj.server.path` with `~` and `${workspaceFolder}`
 * expanded (a relative path with a directory part is taken from the first workspace
 * folder), and `lsp` followed by `mj.server.extraArgs`.
 */
function serverCommand() {
  const config = vscode.workspace.getConfiguration('mj');
  const folders = vscode.workspace.workspaceFolders;
  const folder = folders && folders.length > 0 ? folders[0].uri.fsPath : undefined;

  let command = String(config.get('server.path') || '').trim() || 'mj';
  command = command.replace(/\$\{workspaceFolder\}/g, folder || '.');
  if (command === '~' || command.startsWith('~/') || command.startsWith('~\\')) {
    command = path.join(os.homedir(), command.slice(1));
  }
  if (!path.isAbsolute(command) && /[\\/]/.test(command)) {
    command = path.resolve(folder || process.cwd(), command);
  }

  const extraArgs = config.get('server.extraArgs');
  const args = ['lsp', ...(Array.isArray(extraArgs) ? extraArgs.map(String) : [])];
  return { command, args, cwd: folder };
}

function isExecutableFile(file) {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (process.platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The executable a command names: a path is checked as is; a bare name is looked up on
 * PATH (with PATHEXT on Windows), as spawning it would. Undefined if there is none.
 */
function findExecutable(command) {
  const exts = process.platform === 'win32'
    ? ['', ...(process.env.PATHEXT || '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)]
    : [''];
  if (path.isAbsolute(command)) {
    return exts.map((ext) => command + ext).find(isExecutableFile);
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, command + ext);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

async function showStartError(message) {
  if (outputChannel) outputChannel.appendLine(message);
  const choice = await vscode.window.showErrorMessage(message, 'Open Settings', 'Show Output');
  if (choice === 'Open Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'mj.server');
  } else if (choice === 'Show Output' && outputChannel) {
    outputChannel.show(true);
  }
}

async function startClient() {
  const { command, args, cwd } = serverCommand();
  const executable = findExecutable(command);
  if (!executable) {
    const where = path.isAbsolute(command) ? 'does not exist or is not executable' : 'was not found on PATH';
    // Not awaited: activation must not wait for the user to answer the notification.
    void showStartError(
      `mj: cannot start the language server: "${command}" ${where}. ` +
        'Install mj, or set "mj.server.path" to the mj executable. Syntax highlighting works without it.',
    );
    return;
  }

  // Only `command`, `args` and `options`: with `transport: stdio` the client would
  // append `--stdio`, which `mj lsp` does not take. Without it, it talks over stdio.
  const serverOptions = {
    command: executable,
    args,
    options: cwd ? { cwd } : {},
  };

  const watchers = [
    vscode.workspace.createFileSystemWatcher('**/*.mj'),
    vscode.workspace.createFileSystemWatcher('**/mj.toml'),
  ];
  clientDisposables.push(...watchers);

  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'mj' },
      { scheme: 'untitled', language: 'mj' },
    ],
    // Sends workspace/didChangeWatchedFiles for .mj files and mj.toml changed on disk
    // (by git, another editor, `mj fmt`), so the server re-reads them.
    synchronize: { fileEvents: watchers },
    outputChannel,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };

  // The id 'mj' makes the client read the `mj.trace.server` setting.
  const newClient = new LanguageClient('mj', 'mj', serverOptions, clientOptions);
  client = newClient;
  outputChannel.appendLine(`Starting ${executable} ${args.join(' ')}`);
  try {
    await newClient.start();
  } catch (err) {
    if (client === newClient) client = undefined;
    const reason = err && err.message ? err.message : String(err);
    void showStartError(`mj: the language server "${executable} ${args.join(' ')}" could not be started: ${reason}`);
  }
}

async function stopClient() {
  const old = client;
  client = undefined;
  const disposables = clientDisposables;
  clientDisposables = [];
  try {
    if (old && old.needsStop()) await old.stop();
  } catch (err) {
    if (outputChannel) outputChannel.appendLine(`Stopping the language server: ${err && err.message ? err.message : err}`);
  } finally {
    for (const d of disposables) d.dispose();
  }
}

function restartClient() {
  pending = pending.catch(() => undefined).then(stopClient).then(startClient);
  return pending;
}

/** @param {vscode.ExtensionContext} context */
function activate(context) {
  outputChannel = vscode.window.createOutputChannel('mj');
  context.subscriptions.push(outputChannel);
  context.subscriptions.push(vscode.commands.registerCommand('mj.restartServer', restartClient));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('mj.server')) void restartClient();
    }),
  );
  pending = startClient();
  return pending;
}

function deactivate() {
  return pending.then(stopClient, stopClient);
}

module.exports = { activate, deactivate, serverCommand, findExecutable };
