import CStrataAPI
import CStrataAPIInternal
import Glibc
import Strata
import StrataWASI
import WAT

// strata.h: settings, interruption, text, the linker and WASI for C programs.

final class CError: CObject {
    let message: String
    init(_ message: String) { self.message = message }
}

/// An owned error for C, or nil.
func cError(_ message: String?) -> OpaquePointer? { message.map { CError($0).retained() } }

@_cdecl("strata_error_message")
public func strataErrorMessage(_ e: OpaquePointer, _ out: UnsafeMutablePointer<wasm_byte_vec_t>) {
    fill(out, Array(object(e, as: CError.self).message.utf8) + [0])
}

@_cdecl("strata_error_delete")
public func strataErrorDelete(_ e: OpaquePointer?) { if let e { strataCAPIRelease(UnsafeRawPointer(e)) } }

// MARK: configuration

@_cdecl("strata_config_tier_set")
public func strataConfigTierSet(_ c: OpaquePointer, _ tier: UInt8) {
    let tiers: [Tier] = [.tiered, .interpreter, .baseline, .optimizing]
    if Int(tier) < tiers.count { object(c, as: CConfig.self).configuration.tier = tiers[Int(tier)] }
}

@_cdecl("strata_config_tier_up_threshold_set")
public func strataConfigTierUpThresholdSet(_ c: OpaquePointer, _ n: UInt32) {
    if n > 0 { object(c, as: CConfig.self).configuration.tierUpThreshold = Int(n) }
}

@_cdecl("strata_config_optimize_threshold_set")
public func strataConfigOptimizeThresholdSet(_ c: OpaquePointer, _ n: UInt32) {
    if n > 0 { object(c, as: CConfig.self).configuration.optimizeThreshold = Int(n) }
}

@_cdecl("strata_config_compile_threads_set")
public func strataConfigCompileThreadsSet(_ c: OpaquePointer, _ n: UInt32) {
    if n > 0 { object(c, as: CConfig.self).configuration.compileThreads = Int(n) }
}

@_cdecl("strata_config_cache_dir_set")
public func strataConfigCacheDirSet(_ c: OpaquePointer, _ path: UnsafePointer<CChar>?) -> OpaquePointer? {
    do {
        object(c, as: CConfig.self).configuration.codeCache = try DirectoryCodeCache(directory: path.map { String(cString: $0) })
        return nil
    } catch {
        return cError("\(error)")
    }
}

/// The tier log's callback and environment (finalized once, when the engine lets it go).
final class TierLogCallback: @unchecked Sendable {
    let callback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void
    let env: UnsafeMutableRawPointer?
    let finalizer: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    init(
        callback: @escaping @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void, env: UnsafeMutableRawPointer?,
        finalizer: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    ) {
        self.callback = callback
        self.env = env
        self.finalizer = finalizer
    }
    deinit { finalizer?(env) }
}

@_cdecl("strata_config_tier_log_set")
public func strataConfigTierLogSet(
    _ c: OpaquePointer, _ callback: (@convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void)?,
    _ env: UnsafeMutableRawPointer?, _ finalizer: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
) {
    guard let callback else {
        object(c, as: CConfig.self).configuration.tierLog = nil
        return
    }
    let log = TierLogCallback(callback: callback, env: env, finalizer: finalizer)
    object(c, as: CConfig.self).configuration.tierLog = { event in "\(event)".withCString { log.callback(log.env, $0) } }
}

// MARK: interruption

final class CInterruptHandle: CObject {
    let handle: InterruptHandle
    init(_ handle: InterruptHandle) { self.handle = handle }
}

@_cdecl("strata_store_interrupt_handle")
public func strataStoreInterruptHandle(_ s: OpaquePointer) -> OpaquePointer {
    CInterruptHandle(object(s, as: CStore.self).store.interruptHandle).retained()
}

@_cdecl("strata_interrupt_handle_interrupt")
public func strataInterruptHandleInterrupt(_ h: OpaquePointer) { object(h, as: CInterruptHandle.self).handle.interrupt() }

@_cdecl("strata_interrupt_handle_delete")
public func strataInterruptHandleDelete(_ h: OpaquePointer?) { if let h { strataCAPIRelease(UnsafeRawPointer(h)) } }

// MARK: text

@_cdecl("strata_wat2wasm")
public func strataWat2wasm(_ text: UnsafePointer<CChar>?, _ length: Int, _ out: UnsafeMutablePointer<wasm_byte_vec_t>) -> OpaquePointer? {
    wasm_byte_vec_new_empty(out)
    let source = text.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
    do {
        fill(out, try wat2wasm(source))
        return nil
    } catch {
        return cError("\(error)")
    }
}

// MARK: linker and WASI

final class CLinker: CObject {
    let linker = Linker()
    let store: CStore
    var wasi: WASI?
    init(store: CStore) { self.store = store }
}

func text(_ p: UnsafePointer<CChar>?, _ n: Int) -> String {
    p.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: n), as: UTF8.self) } ?? ""
}

@_cdecl("strata_linker_new")
public func strataLinkerNew(_ s: OpaquePointer) -> OpaquePointer { CLinker(store: object(s, as: CStore.self)).retained() }

@_cdecl("strata_linker_delete")
public func strataLinkerDelete(_ l: OpaquePointer?) { if let l { strataCAPIRelease(UnsafeRawPointer(l)) } }

@_cdecl("strata_linker_define")
public func strataLinkerDefine(
    _ l: OpaquePointer, _ module: UnsafePointer<CChar>?, _ moduleLength: Int, _ name: UnsafePointer<CChar>?, _ nameLength: Int,
    _ e: OpaquePointer?
) -> OpaquePointer? {
    guard let e else { return cError("strata_linker_define: no extern") }
    let linker = object(l, as: CLinker.self), ext = object(e, as: CExtern.self)
    guard ext.store === linker.store else { return cError("strata_linker_define: the extern belongs to another store") }
    linker.linker.define(text(module, moduleLength), text(name, nameLength), ext.extern)
    return nil
}

@_cdecl("strata_linker_define_instance")
public func strataLinkerDefineInstance(_ l: OpaquePointer, _ name: UnsafePointer<CChar>?, _ length: Int, _ i: OpaquePointer?) -> OpaquePointer? {
    guard let i else { return cError("strata_linker_define_instance: no instance") }
    let linker = object(l, as: CLinker.self), instance = object(i, as: CInstance.self)
    guard instance.store === linker.store else { return cError("strata_linker_define_instance: the instance belongs to another store") }
    linker.linker.define(instance: instance.instance, as: text(name, length))
    return nil
}

@_cdecl("strata_linker_instantiate")
public func strataLinkerInstantiate(
    _ l: OpaquePointer, _ m: OpaquePointer, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ trap: UnsafeMutablePointer<OpaquePointer?>?
) -> OpaquePointer? {
    out?.pointee = nil
    trap?.pointee = nil
    let linker = object(l, as: CLinker.self)
    let module = object(m, as: CModule.self).module
    let imports: [Extern]
    do { imports = try linker.linker.resolve(module) } catch { return cError("\(error)") }
    return trapOrError(trap) {
        out?.pointee = CInstance(try linker.store.store.instantiate(module, imports: imports), store: linker.store).retained()
    }
}

/// Runs `body`: a Wasm trap it raises goes to `trap` (no error), any other failure is the
/// error returned.
func trapOrError(_ trap: UnsafeMutablePointer<OpaquePointer?>?, _ body: () throws -> Void) -> OpaquePointer? {
    do {
        try body()
        return nil
    } catch let t as Trap {
        trap?.pointee = CTrap.from(t).retained()
        return nil
    } catch {
        return cError("\(error)")
    }
}

final class CWASIConfig: CObject {
    var options = WASIOptions()
}

@_cdecl("strata_wasi_config_new")
public func strataWASIConfigNew() -> OpaquePointer { CWASIConfig().retained() }

@_cdecl("strata_wasi_config_delete")
public func strataWASIConfigDelete(_ c: OpaquePointer?) { if let c { strataCAPIRelease(UnsafeRawPointer(c)) } }

@_cdecl("strata_wasi_config_set_argv")
public func strataWASIConfigSetArgv(_ c: OpaquePointer, _ argc: Int, _ argv: UnsafePointer<UnsafePointer<CChar>?>?) {
    object(c, as: CWASIConfig.self).options.arguments = (0..<argc).map { argv?[$0].map { String(cString: $0) } ?? "" }
}

@_cdecl("strata_wasi_config_set_env")
public func strataWASIConfigSetEnv(
    _ c: OpaquePointer, _ count: Int, _ names: UnsafePointer<UnsafePointer<CChar>?>?, _ values: UnsafePointer<UnsafePointer<CChar>?>?
) {
    var env: [String: String] = [:]
    for i in 0..<count {
        guard let n = names?[i], let v = values?[i] else { continue }
        env[String(cString: n)] = String(cString: v)
    }
    object(c, as: CWASIConfig.self).options.environment = env
}

@_cdecl("strata_wasi_config_inherit_env")
public func strataWASIConfigInheritEnv(_ c: OpaquePointer) {
    var env: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let s = String(cString: entry)
        if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
        p += 1
    }
    object(c, as: CWASIConfig.self).options.environment = env
}

@_cdecl("strata_wasi_config_preopen_dir")
public func strataWASIConfigPreopenDir(_ c: OpaquePointer, _ host: UnsafePointer<CChar>?, _ guest: UnsafePointer<CChar>?) -> Bool {
    guard let host, let guest else { return false }
    var st = stat()
    guard stat(host, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { return false }
    object(c, as: CWASIConfig.self).options.directories.append((String(cString: host), String(cString: guest)))
    return true
}

@_cdecl("strata_wasi_config_set_stdio")
public func strataWASIConfigSetStdio(_ c: OpaquePointer, _ stdinFD: Int32, _ stdoutFD: Int32, _ stderrFD: Int32) {
    let config = object(c, as: CWASIConfig.self)
    config.options.stdin = stdinFD
    config.options.stdout = stdoutFD
    config.options.stderr = stderrFD
}

@_cdecl("strata_linker_define_wasi")
public func strataLinkerDefineWASI(_ l: OpaquePointer, _ c: OpaquePointer?) -> OpaquePointer? {
    let linker = object(l, as: CLinker.self)
    let options = c.map { object($0, as: CWASIConfig.self).options } ?? WASIOptions()
    do {
        linker.wasi = try linker.linker.defineWASI(options, store: linker.store.store)
        return nil
    } catch {
        return cError("\(error)")
    }
}

@_cdecl("strata_linker_wasi_start")
public func strataLinkerWASIStart(
    _ l: OpaquePointer, _ i: OpaquePointer, _ exitCode: UnsafeMutablePointer<Int32>?, _ trap: UnsafeMutablePointer<OpaquePointer?>?
) -> OpaquePointer? {
    trap?.pointee = nil
    let linker = object(l, as: CLinker.self)
    guard let wasi = linker.wasi else { return cError("strata_linker_wasi_start: the linker has no WASI (strata_linker_define_wasi)") }
    let instance = object(i, as: CInstance.self)
    return trapOrError(trap) { exitCode?.pointee = try wasi.start(instance.instance) }
}
