// The package's two entry points, read the way a consumer's compiler reads them: every type a public signature
// names (a parameter, a return, a property, an event payload, recursively) must be exported by `iscsi-mpio` or
// `iscsi-mpio/wire`, or a user cannot name what they hold; and the main entry must not carry the PDU layer.
// Members tagged @internal are left out (tsconfig.build.json strips them from the published declarations).
import assert from 'node:assert/strict';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..');
const LIB = path.join(ROOT, 'lib');
const ENTRIES = { main: path.join(LIB, 'index.ts'), wire: path.join(LIB, 'wire', 'index.ts') };

function isInternal(symbol: ts.Symbol): boolean {
  return symbol.getJsDocTags().some((t) => t.name === 'internal');
}

function isHidden(symbol: ts.Symbol): boolean {
  const decl = symbol.valueDeclaration ?? symbol.declarations?.[0];
  const hiddenModifier = decl !== undefined && ts.canHaveModifiers(decl)
    && (ts.getCombinedModifierFlags(decl as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0;
  return hiddenModifier || symbol.name.startsWith('#') || symbol.name.startsWith('__#') || isInternal(symbol);
}

/** The lib/ file a symbol is declared in, or undefined for Node's and TypeScript's own types. */
function libFile(symbol: ts.Symbol | undefined): string | undefined {
  const file = symbol?.declarations?.[0]?.getSourceFile().fileName;
  return file?.startsWith(LIB + path.sep) ? path.relative(ROOT, file) : undefined;
}

const NAMED = ts.SymbolFlags.Interface | ts.SymbolFlags.Class | ts.SymbolFlags.Enum | ts.SymbolFlags.TypeAlias;

class ApiWalk {
  readonly checker: ts.TypeChecker;
  readonly exports: Record<keyof typeof ENTRIES, Map<string, ts.Symbol>>;
  /** Named lib/ types reached from a public signature that no entry exports: name -> "file (via where)". */
  readonly unexported = new Map<string, string>();
  private readonly exported = new Set<ts.Symbol>();
  private readonly seenTypes = new Set<ts.Type>();

  constructor() {
    const program = ts.createProgram(Object.values(ENTRIES), {
      strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
      types: ['node'], noEmit: true,
    });
    this.checker = program.getTypeChecker();
    const exportsOf = (file: string) => {
      const module = this.checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
      return new Map(this.checker.getExportsOfModule(module).map((s) => [s.name, s.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(s) : s]));
    };
    this.exports = { main: exportsOf(ENTRIES.main), wire: exportsOf(ENTRIES.wire) };
    for (const map of Object.values(this.exports)) for (const s of map.values()) this.exported.add(s);
    for (const map of Object.values(this.exports)) for (const s of map.values()) this.visitExport(s);
  }

  private visitExport(s: ts.Symbol): void {
    if (s.flags & ts.SymbolFlags.Class) {
      this.visitType(this.checker.getDeclaredTypeOfSymbol(s), s.name);
      this.visitType(this.checker.getTypeOfSymbol(s), s.name); // constructor and statics
    } else if (s.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) {
      this.visitType(this.checker.getDeclaredTypeOfSymbol(s), s.name);
    } else if (s.flags & ts.SymbolFlags.Value) {
      this.visitType(this.checker.getTypeOfSymbol(s), s.name);
    }
  }

  private note(symbol: ts.Symbol | undefined, via: string): void {
    const file = libFile(symbol);
    if (!symbol || !file || !(symbol.flags & NAMED) || this.exported.has(symbol) || this.unexported.has(symbol.name)) return;
    this.unexported.set(symbol.name, `${file} (via ${via})`);
  }

  private visitSignature(signature: ts.Signature, via: string): void {
    for (const p of signature.getParameters()) this.visitType(this.checker.getTypeOfSymbol(p), `${via}(${p.name})`);
    for (const t of signature.getTypeParameters() ?? []) {
      const constraint = t.getConstraint();
      if (constraint) this.visitType(constraint, via);
    }
    this.visitType(signature.getReturnType(), `${via}()`);
  }

  private visitType(type: ts.Type, via: string): void {
    if (this.seenTypes.has(type)) return;
    this.seenTypes.add(type);
    this.note(type.aliasSymbol, via);
    for (const a of type.aliasTypeArguments ?? []) this.visitType(a, via);
    this.note(type.getSymbol(), via);
    if (type.isUnionOrIntersection()) {
      for (const t of type.types) this.visitType(t, via);
      return;
    }
    if (!(type.flags & ts.TypeFlags.Object)) return;
    if ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) {
      for (const a of this.checker.getTypeArguments(type as ts.TypeReference)) this.visitType(a, via);
    }
    const symbol = type.getSymbol();
    // Node's and the language's own types (Buffer, Promise, EventEmitter): their type arguments were seen above.
    if (symbol && !libFile(symbol) && !(symbol.flags & (ts.SymbolFlags.TypeLiteral | ts.SymbolFlags.ObjectLiteral))) return;
    const name = symbol?.name ?? 'type';
    for (const p of type.getProperties()) {
      if (!isHidden(p)) this.visitType(this.checker.getTypeOfSymbol(p), `${name}.${p.name}`);
    }
    for (const s of type.getCallSignatures()) this.visitSignature(s, name);
    for (const s of type.getConstructSignatures()) this.visitSignature(s, `new ${name}`);
    const index = type.getStringIndexType() ?? type.getNumberIndexType();
    if (index) this.visitType(index, `${name}[]`);
    for (const base of type.getBaseTypes?.() ?? []) this.visitType(base, name);
  }
}

describe('public API: what iscsi-mpio and iscsi-mpio/wire export', function () {
  this.timeout(120_000);
  let api: ApiWalk;
  before(() => { api = new ApiWalk(); });

  it('every type a public signature names is exported by one of the two entry points', () => {
    const list = [...api.unexported].map(([name, where]) => `${name}: ${where}`).sort();
    assert.deepEqual(list, [], `types used in public signatures but not exported:\n  ${list.join('\n  ')}`);
  });

  it('exports the types users asked for by name, and the portal is one shape', () => {
    for (const name of ['Portal', 'DeviceCapacity', 'DeviceIdentity', 'ScsiError', 'IscsiUrl', 'PathStatsSnapshot', 'PolicyName',
      'ConnectRequest', 'ConnectUrlOptions', 'DiscoveredTarget', 'NoPathError', 'LoginError', 'AuthenticationError', 'ConnectError']) {
      assert.ok(api.exports.main.has(name), `iscsi-mpio exports ${name}`);
    }
    const portal = api.checker.getDeclaredTypeOfSymbol(api.exports.main.get('Portal')!);
    assert.deepEqual(portal.getProperties().map((p) => p.name), ['address', 'port']);
  });

  it('keeps the PDU layer out of the main entry and in iscsi-mpio/wire', () => {
    for (const name of ['PduConnection', 'decodeBhs', 'encodeBhs', 'Deframer', 'connectBound', 'framePdu', 'Opcode', 'crc32c']) {
      assert.ok(!api.exports.main.has(name), `iscsi-mpio does not export ${name}`);
      assert.ok(api.exports.wire.has(name), `iscsi-mpio/wire exports ${name}`);
    }
  });
});
