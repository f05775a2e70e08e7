import Foundation
import Testing
@testable import Strata

/// Every encoding the assembler emits, checked against LLVM's disassembler (`llvm-objdump`,
/// shipped with the Swift toolchain). Each case assembles one instruction; the whole list is
/// disassembled in one run and compared line by line.
@Suite struct X64AssemblerTests {
    typealias Case = (String, (inout X64Assembler) -> Void)

    static var cases: [Case] {
        var c: [Case] = []
        func add(_ text: String, _ f: @escaping (inout X64Assembler) -> Void) { c.append((text, f)) }
        // Moves across every register class that needs special encodings (rsp/r12 need a SIB,
        // rbp/r13 need a displacement, r8+ need REX bits).
        add("mov rax, rbx") { $0.mov(.w64, .rax, .rbx) }
        add("mov r15d, ecx") { $0.mov(.w32, .r15, .rcx) }
        add("mov rsp, r12") { $0.mov(.w64, .rsp, .r12) }
        add("xchg rax, r9") { $0.xchg(.rax, .r9) }
        add("xchg r13, rsi") { $0.xchg(.r13, .rsi) }
        add("mov eax, 0x7b") { $0.movImm(.rax, 123) }
        add("mov r9d, 0xffffffff") { $0.movImm(.r9, 0xFFFF_FFFF) }
        add("mov rdx, -0x2") { $0.movImm(.rdx, UInt64(bitPattern: -2)) }
        add("movabs r11, 0x123456789abc") { $0.movImm(.r11, 0x1234_5678_9ABC) }
        add("mov eax, dword ptr [r12 + 0x8]") { $0.load(.w32, .rax, Mem(.r12, 8)) }
        add("mov rax, qword ptr [rsp]") { $0.load(.w64, .rax, Mem(.rsp)) }
        add("mov rax, qword ptr [rbp]") { $0.load(.w64, .rax, Mem(.rbp)) }
        add("mov r13, qword ptr [r13 - 0x80]") { $0.load(.w64, .r13, Mem(.r13, -128)) }
        add("mov rcx, qword ptr [rbx + 0x1000]") { $0.load(.w64, .rcx, Mem(.rbx, 4096)) }
        add("mov rcx, qword ptr [r15 + 8*r9 + 0x10]") { $0.load(.w64, .rcx, Mem(.r15, index: .r9, scale: 3, 16)) }
        add("mov dword ptr [rax + rbx], esi") { $0.store(.w32, Mem(.rax, index: .rbx), .rsi) }
        add("mov qword ptr [rbp - 0x18], r10") { $0.store(.w64, Mem(.rbp, -24), .r10) }
        add("mov byte ptr [rax], sil") { $0.store8(Mem(.rax), .rsi) }
        add("mov byte ptr [r8 + 0x1], r9b") { $0.store8(Mem(.r8, 1), .r9) }
        add("mov word ptr [rax + 0x2], dx") { $0.store16(Mem(.rax, 2), .rdx) }
        add("mov qword ptr [rsp + 0x8], -0x1") { $0.storeImm(.w64, Mem(.rsp, 8), -1) }
        add("mov dword ptr [rdi], 0x12345") { $0.storeImm(.w32, Mem(.rdi), 0x12345) }
        add("mov byte ptr [r15 + rax + 0x8], 0x14") { $0.storeImm8(Mem(.r15, index: .rax, 8), 0x14) }
        add("mov byte ptr [r12], -0x1") { $0.storeImm8(Mem(.r12), 0xFF) }
        add("test dword ptr [r14 - 0x1000], eax") { $0.test(.w32, Mem(.r14, -4096), .rax) }
        add("movzx eax, byte ptr [r15 + rax + 0x3]") { $0.loadZX8(.rax, Mem(.r15, index: .rax, 3)) }
        add("movzx ecx, word ptr [rdx]") { $0.loadZX16(.rcx, Mem(.rdx)) }
        add("movsx eax, byte ptr [rcx]") { $0.loadSX8(.w32, .rax, Mem(.rcx)) }
        add("movsx rax, word ptr [rcx]") { $0.loadSX16(.w64, .rax, Mem(.rcx)) }
        add("movsxd r8, dword ptr [r9]") { $0.loadSX32(.r8, Mem(.r9)) }
        add("movzx eax, dil") { $0.movzx8(.rax, .rdi) }
        add("movzx r10d, r11w") { $0.movzx16(.r10, .r11) }
        add("movsx rax, sil") { $0.movsx8(.w64, .rax, .rsi) }
        add("movsx ecx, dx") { $0.movsx16(.w32, .rcx, .rdx) }
        add("movsxd rax, ecx") { $0.movsxd(.rax, .rcx) }
        add("lea rax, [rbx + 4*rcx + 0x7]") { $0.lea(.w64, .rax, Mem(.rbx, index: .rcx, scale: 2, 7)) }
        add("lea r8d, [r13]") { $0.lea(.w32, .r8, Mem(.r13)) }
        add("lea eax, [4*rcx + 0x400]") { $0.lea(.w32, .rax, index: .rcx, scale: 2, 0x400) }
        add("lea r9, [8*r12 - 0x8]") { $0.lea(.w64, .r9, index: .r12, scale: 3, -8) }
        // Alignment padding: the nop of each length `align` uses.
        let nops = ["nop", "nop", "nop dword ptr [rax]", "nop dword ptr [rax]", "nop dword ptr [rax + rax]",
                    "nop word ptr [rax + rax]", "nop dword ptr [rax]", "nop dword ptr [rax + rax]", "nop word ptr [rax + rax]"]
        for k in 1...9 { add(nops[k - 1]) { a in for b in X64Assembler.nops[k] { a.byte(b) } } }
        add("push rbp") { $0.push(.rbp) }
        add("push r15") { $0.push(.r15) }
        add("pop r12") { $0.pop(.r12) }
        // Arithmetic.
        add("add rax, rbx") { $0.alu(.add, .w64, .rax, .rbx) }
        add("sub r8d, r9d") { $0.alu(.sub, .w32, .r8, .r9) }
        add("xor eax, eax") { $0.alu(.xor, .w32, .rax, .rax) }
        add("cmp rcx, qword ptr [rbp - 0x8]") { $0.alu(.cmp, .w64, .rcx, Mem(.rbp, -8)) }
        add("and esi, 0x7f") { $0.alu(.and, .w32, .rsi, imm: 127) }
        add("or r12, 0x1000") { $0.alu(.or, .w64, .r12, imm: 4096) }
        add("cmp rsp, qword ptr [r14 + 0x30]") { $0.alu(.cmp, .w64, .rsp, Mem(.r14, 48)) }
        add("cmp dword ptr [rax], 0x0") { $0.alu(.cmp, .w32, Mem(.rax), imm: 0) }
        add("add qword ptr [rbx + 0x8], 0x10000") { $0.alu(.add, .w64, Mem(.rbx, 8), imm: 65536) }
        add("or dword ptr [r15 + rdx], ecx") { $0.alu(.or, .w32, Mem(.r15, index: .rdx), .rcx) }
        add("sub qword ptr [r15 + r9 + 0x2c0], r12") { $0.alu(.sub, .w64, Mem(.r15, index: .r9, 0x2C0), .r12) }
        add("xor dword ptr [rbp - 0x10], r11d") { $0.alu(.xor, .w32, Mem(.rbp, -16), .r11) }
        add("adc eax, ecx") { $0.alu(.adc, .w32, .rax, .rcx) }
        add("sbb rdx, rdx") { $0.alu(.sbb, .w64, .rdx, .rdx) }
        add("test r9, r10") { $0.test(.w64, .r9, .r10) }
        add("imul eax, r8d") { $0.imul(.w32, .rax, .r8) }
        add("imul rcx, rdx, 0x3") { $0.imul(.w64, .rcx, .rdx, imm: 3) }
        add("imul r11d, eax, 0x186a0") { $0.imul(.w32, .r11, .rax, imm: 100000) }
        add("div ecx") { $0.div(.w32, .rcx) }
        add("mul r10") { $0.mul(.w64, .r10) }
        add("idiv r10") { $0.idiv(.w64, .r10) }
        add("cdq") { $0.signExtendAccumulator(.w32) }
        add("cqo") { $0.signExtendAccumulator(.w64) }
        add("neg rax") { $0.neg(.w64, .rax) }
        add("not r14d") { $0.not(.w32, .r14) }
        add("shl eax, cl") { $0.shift(.shl, .w32, .rax) }
        add("sar r9, cl") { $0.shift(.sar, .w64, .r9) }
        add("ror rdx, 0x11") { $0.shift(.ror, .w64, .rdx, imm: 17) }
        add("shr esi, 0x1f") { $0.shift(.shr, .w32, .rsi, imm: 31) }
        add("rol ebx, cl") { $0.shift(.rol, .w32, .rbx) }
        add("btc rax, 0x3f") { $0.btc(.w64, .rax, bit: 63) }
        add("btr r9d, 0x1f") { $0.btr(.w32, .r9, bit: 31) }
        add("lzcnt eax, ecx") { $0.lzcnt(.w32, .rax, .rcx) }
        add("tzcnt r8, r9") { $0.tzcnt(.w64, .r8, .r9) }
        add("rorx eax, ecx, 0x7") { $0.rorx(.w32, .rax, .rcx, 7) }
        add("rorx r12d, ebx, 0x1e") { $0.rorx(.w32, .r12, .rbx, 30) }
        add("rorx rdx, r13, 0x3f") { $0.rorx(.w64, .rdx, .r13, 63) }
        add("rorx r9, r10, 0x1") { $0.rorx(.w64, .r9, .r10, 1) }
        add("shlx eax, ecx, edx") { $0.shiftx(.shl, .w32, .rax, .rcx, count: .rdx) }
        add("shrx r12d, ebx, r9d") { $0.shiftx(.shr, .w32, .r12, .rbx, count: .r9) }
        add("sarx rdx, r13, rsi") { $0.shiftx(.sar, .w64, .rdx, .r13, count: .rsi) }
        add("shlx r9, r10, r11") { $0.shiftx(.shl, .w64, .r9, .r10, count: .r11) }
        add("popcnt rax, r15") { $0.popcnt(.w64, .rax, .r15) }
        add("sete al") { $0.setcc(.e, .rax) }
        add("setl sil") { $0.setcc(.l, .rsi) }
        add("seta r10b") { $0.setcc(.a, .r10) }
        add("cmovne rax, rcx") { $0.cmov(.ne, .w64, .rax, .rcx) }
        add("cmovl r8d, edi") { $0.cmov(.l, .w32, .r8, .rdi) }
        add("call rax") { $0.call(.rax) }
        add("call qword ptr [rdx]") { $0.call(Mem(.rdx)) }
        add("call r11") { $0.call(.r11) }
        add("jmp rcx") { $0.jmp(.rcx) }
        add("jmp r8") { $0.jmp(.r8) }
        add("ret") { $0.ret() }
        add("ud2") { $0.ud2() }
        add("int3") { $0.int3() }
        // SSE.
        add("addss xmm0, xmm1") { $0.sse(.add, .f32, .xmm(0), .xmm(1)) }
        add("divsd xmm9, xmm15") { $0.sse(.div, .f64, .xmm(9), .xmm(15)) }
        add("sqrtsd xmm2, xmm2") { $0.sse(.sqrt, .f64, .xmm(2), .xmm(2)) }
        add("minss xmm3, xmm4") { $0.sse(.min, .f32, .xmm(3), .xmm(4)) }
        add("movss xmm0, dword ptr [rbp - 0x10]") { $0.movss(.f32, .xmm(0), Mem(.rbp, -16)) }
        add("movsd qword ptr [r15 + rax], xmm8") { $0.movss(.f64, Mem(.r15, index: .rax), .xmm(8)) }
        add("movaps xmm1, xmm12") { $0.movaps(.xmm(1), .xmm(12)) }
        add("movdqu xmm0, xmmword ptr [rsp + 0x10]") { $0.movdqu(.xmm(0), Mem(.rsp, 16)) }
        add("movdqu xmmword ptr [r12], xmm9") { $0.movdqu(Mem(.r12), .xmm(9)) }
        // SIMD: packed forms of every map, immediates, lanes to and from general registers and
        // memory, shifts by an immediate, masks to general registers.
        add("paddd xmm1, xmm9") { $0.packed(0x66, [0x0F, 0xFE], .xmm(1), .xmm(9)) }
        add("addps xmm10, xmm2") { $0.packed(nil, [0x0F, 0x58], .xmm(10), .xmm(2)) }
        add("pmulld xmm3, xmm4") { $0.packed(0x66, [0x0F, 0x38, 0x40], .xmm(3), .xmm(4)) }
        add("pshufd xmm5, xmm13, 0xee") { $0.packed(0x66, [0x0F, 0x70], .xmm(5), .xmm(13), imm: 0xEE) }
        add("roundpd xmm0, xmm1, 0xb") { $0.packed(0x66, [0x0F, 0x3A, 0x09], .xmm(0), .xmm(1), imm: 0x0B) }
        add("cmpltps xmm2, xmm3") { $0.packed(nil, [0x0F, 0xC2], .xmm(2), .xmm(3), imm: 1) }
        add("pmovzxbw xmm7, qword ptr [r15 + rax + 0x8]") { $0.packed(0x66, [0x0F, 0x38, 0x30], .xmm(7), Mem(.r15, index: .rax, 8)) }
        add("pinsrq xmm11, r11, 0x1") { $0.lane([0x0F, 0x3A, 0x22], .xmm(11), .r11, wide: true, imm: 1) }
        add("pextrb r9d, xmm2, 0xf") { $0.lane([0x0F, 0x3A, 0x14], .xmm(2), .r9, imm: 15) }
        add("pinsrw xmm0, eax, 0x7") { $0.lane([0x0F, 0xC4], .xmm(0), .rax, imm: 7) }
        add("pinsrb xmm1, byte ptr [r15 + rcx], 0x3") { $0.lane([0x0F, 0x3A, 0x20], .xmm(1), Mem(.r15, index: .rcx), imm: 3) }
        add("pextrq qword ptr [rsp + 0x20], xmm12, 0x1") { $0.lane([0x0F, 0x3A, 0x16], .xmm(12), Mem(.rsp, 32), wide: true, imm: 1) }
        add("psrld xmm9, 0x10") { $0.packedShift(0x72, 2, .xmm(9), imm: 16) }
        add("psllq xmm15, 0x3f") { $0.packedShift(0x73, 6, .xmm(15), imm: 63) }
        add("pmovmskb r10d, xmm9") { $0.packedToGPR(0x66, [0x0F, 0xD7], .r10, .xmm(9)) }
        add("movmskps eax, xmm3") { $0.packedToGPR(nil, [0x0F, 0x50], .rax, .xmm(3)) }
        add("movq xmm2, qword ptr [rdi + 0x4]") { $0.movq(.xmm(2), Mem(.rdi, 4)) }
        // AVX three-operand packed forms (VEX: the 0F map in two bytes, 0F 38 / 0F 3A and
        // extended base or index registers in three).
        add("vpaddd xmm1, xmm2, xmm3") { $0.vpacked(0x66, [0x0F, 0xFE], .xmm(1), .xmm(2), .reg(.xmm(3))) }
        add("vaddps xmm10, xmm11, xmm12") { $0.vpacked(nil, [0x0F, 0x58], .xmm(10), .xmm(11), .reg(.xmm(12))) }
        add("vpmulld xmm3, xmm14, xmm4") { $0.vpacked(0x66, [0x0F, 0x38, 0x40], .xmm(3), .xmm(14), .reg(.xmm(4))) }
        add("vpminud xmm0, xmm1, xmmword ptr [r15 + rax + 0x10]") { $0.vpacked(0x66, [0x0F, 0x38, 0x3B], .xmm(0), .xmm(1), .mem(Mem(.r15, index: .rax, 16))) }
        add("vpandn xmm9, xmm2, xmmword ptr [rbp - 0x40]") { $0.vpacked(0x66, [0x0F, 0xDF], .xmm(9), .xmm(2), .mem(Mem(.rbp, -64))) }
        add("vsubpd xmm5, xmm5, xmmword ptr [rax + 8*r12]") { $0.vpacked(0x66, [0x0F, 0x5C], .xmm(5), .xmm(5), .mem(Mem(.rax, index: .r12, scale: 3))) }
        add("vpshufb xmm13, xmm8, xmm15") { $0.vpacked(0x66, [0x0F, 0x38, 0x00], .xmm(13), .xmm(8), .reg(.xmm(15))) }
        add("vpackssdw xmm2, xmm3, xmm9") { $0.vpacked(0x66, [0x0F, 0x6B], .xmm(2), .xmm(3), .reg(.xmm(9))) }
        add("vpblendvb xmm1, xmm2, xmm11, xmm12") { $0.vpacked(0x66, [0x0F, 0x3A, 0x4C], .xmm(1), .xmm(2), .reg(.xmm(11)), imm: 12 << 4) }
        add("vpsrlw xmm5, xmm3, 0x8") { $0.vpacked(0x66, [0x0F, 0x71], .xmm(2), .xmm(5), .reg(.xmm(3)), imm: 8) }
        add("vpsllq xmm12, xmm9, 0x3f") { $0.vpacked(0x66, [0x0F, 0x73], .xmm(6), .xmm(12), .reg(.xmm(9)), imm: 63) }
        add("vbroadcastss xmm7, dword ptr [r15 + rax + 0x4]") { $0.vpacked(0x66, [0x0F, 0x38, 0x18], .xmm(7), .xmm(0), .mem(Mem(.r15, index: .rax, 4))) }
        add("movddup xmm3, qword ptr [r15 + rcx]") { $0.packed(0xF2, [0x0F, 0x12], .xmm(3), Mem(.r15, index: .rcx)) }
        add("movdqu xmm4, xmmword ptr [rbp - 0x30]") { $0.load128(.xmm(4), .mem(Mem(.rbp, -48))) }
        add("pmaxsw xmm6, xmmword ptr [rsp + 0x10]") { $0.packed(0x66, [0x0F, 0xEE], .xmm(6), .mem(Mem(.rsp, 16))) }
        add("movd xmm8, dword ptr [r13]") { $0.movd(.xmm(8), Mem(.r13)) }
        add("movd xmm0, eax") { $0.movToX(.w32, .xmm(0), .rax) }
        add("movq xmm10, r11") { $0.movToX(.w64, .xmm(10), .r11) }
        add("movd ecx, xmm1") { $0.movFromX(.w32, .rcx, .xmm(1)) }
        add("movq r9, xmm14") { $0.movFromX(.w64, .r9, .xmm(14)) }
        add("ucomiss xmm0, xmm1") { $0.ucomis(.f32, .xmm(0), .xmm(1)) }
        add("ucomisd xmm11, xmm3") { $0.ucomis(.f64, .xmm(11), .xmm(3)) }
        add("andps xmm0, xmm1") { $0.andps(.xmm(0), .xmm(1)) }
        add("andnps xmm2, xmm3") { $0.andnps(.xmm(2), .xmm(3)) }
        add("orps xmm8, xmm0") { $0.orps(.xmm(8), .xmm(0)) }
        add("xorps xmm5, xmm13") { $0.xorps(.xmm(5), .xmm(13)) }
        add("roundss xmm0, xmm1, 0xa") { $0.round(.f32, .xmm(0), .xmm(1), mode: 10) }
        add("roundsd xmm9, xmm2, 0x9") { $0.round(.f64, .xmm(9), .xmm(2), mode: 9) }
        add("cvtsi2ss xmm0, eax") { $0.cvtsi2s(.f32, .w32, .xmm(0), .rax) }
        add("cvtsi2sd xmm1, r8") { $0.cvtsi2s(.f64, .w64, .xmm(1), .r8) }
        add("cvttss2si eax, xmm2") { $0.cvtts2si(.f32, .w32, .rax, .xmm(2)) }
        add("cvttsd2si r10, xmm11") { $0.cvtts2si(.f64, .w64, .r10, .xmm(11)) }
        add("cvtss2sd xmm0, xmm1") { $0.cvtFloat(from: .f32, .xmm(0), .xmm(1)) }
        add("subsd xmm2, qword ptr [rbp - 0x10]") { $0.sse(.sub, .f64, .xmm(2), Mem(.rbp, -16)) }
        add("mulss xmm9, dword ptr [r15 + rax + 0x8]") { $0.sse(.mul, .f32, .xmm(9), Mem(.r15, index: .rax, 8)) }
        // AVX three-operand forms: two-byte VEX, and three-byte VEX for extended index/base registers.
        add("vaddsd xmm1, xmm2, xmm3") { $0.vsse(.add, .f64, .xmm(1), .xmm(2), .xmm(3)) }
        add("vsubss xmm12, xmm13, xmm9") { $0.vsse(.sub, .f32, .xmm(12), .xmm(13), .xmm(9)) }
        add("vdivsd xmm0, xmm15, xmm2") { $0.vsse(.div, .f64, .xmm(0), .xmm(15), .xmm(2)) }
        add("vmulsd xmm10, xmm0, qword ptr [rbp - 0x18]") { $0.vsse(.mul, .f64, .xmm(10), .xmm(0), Mem(.rbp, -24)) }
        add("vaddss xmm3, xmm4, dword ptr [r15 + r9 + 0x10]") { $0.vsse(.add, .f32, .xmm(3), .xmm(4), Mem(.r15, index: .r9, 16)) }
        add("vsubsd xmm11, xmm1, qword ptr [rax + 8*r12]") { $0.vsse(.sub, .f64, .xmm(11), .xmm(1), Mem(.rax, index: .r12, scale: 3)) }
        add("cvtsd2ss xmm3, xmm3") { $0.cvtFloat(from: .f64, .xmm(3), .xmm(3)) }
        return c
    }

    /// Disassembles raw x86-64 bytes with llvm-objdump (Intel syntax), one instruction a line.
    static func disassemble(_ bytes: [UInt8]) throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-asm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("code.bin"), obj = dir.appendingPathComponent("code.o")
        try Data(bytes).write(to: bin)
        func run(_ tool: String, _ args: [String]) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [tool] + args
            p.currentDirectoryURL = dir
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        _ = try run("llvm-objcopy", ["-I", "binary", "-O", "elf64-x86-64", "code.bin", "code.o"])
        _ = obj
        let text = try run("llvm-objdump", ["-D", "-j", ".data", "-z", "-M", "intel", "--print-imm-hex", "--no-show-raw-insn", "--no-leading-addr", "code.o"])
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(" ") || line.hasPrefix("\t") else { return nil }
            let t = (line.split(separator: "#").first.map(String.init) ?? "").replacingOccurrences(of: "\t", with: " ").trimmingCharacters(in: .whitespaces)
            return t.isEmpty ? nil : t
        }
    }

    static var toolsPresent: Bool {
        ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/llvm-objdump")
        } ?? false
    }

    @Test func encodingsMatchLLVM() throws {
        try #require(Self.toolsPresent, "llvm-objdump is not on PATH")
        var asm = X64Assembler()
        var expected: [String] = []
        for (text, emit) in Self.cases {
            emit(&asm)
            expected.append(text)
        }
        let got = try Self.disassemble(asm.bytes)
        #expect(got.count == expected.count, "instruction count: \(got.count) vs \(expected.count)")
        for (g, e) in zip(got, expected) {
            #expect(g == e)
        }
    }

    @Test func alignPadsWithFewestNops() throws {
        try #require(Self.toolsPresent, "llvm-objdump is not on PATH")
        var asm = X64Assembler()
        asm.ret()
        asm.align(32)  // 31 bytes: 9 + 9 + 9 + 4
        #expect(asm.offset == 32)
        asm.align(32)
        #expect(asm.offset == 32)
        let got = try Self.disassemble(asm.bytes)
        #expect(got == ["ret", "nop word ptr [rax + rax]", "nop word ptr [rax + rax]", "nop word ptr [rax + rax]", "nop dword ptr [rax]"])
    }

    @Test func ripRelativeOperands() throws {
        try #require(Self.toolsPresent, "llvm-objdump is not on PATH")
        var asm = X64Assembler()
        let pool = asm.newLabel()
        asm.movss(.f64, .xmm(1), rip: pool)        // 8 bytes
        asm.sse(.div, .f64, .xmm(3), rip: pool)    // 8 bytes
        asm.sse(.add, .f32, .xmm(12), rip: pool)   // 9 bytes (REX)
        asm.vsse(.mul, .f64, .xmm(9), .xmm(2), rip: pool)   // 8 bytes (VEX)
        // The displacement counts from the end of the instruction, past an immediate.
        asm.packed(0x66, [0x0F, 0x70], .xmm(2), rip: pool, imm: 0x1B)        // 9 bytes
        asm.packed(0x66, [0x0F, 0x38, 0x00], .xmm(10), .rip(pool))          // 10 bytes
        asm.vpacked(nil, [0x0F, 0xC2], .xmm(1), .xmm(2), .rip(pool), imm: 2) // 9 bytes
        asm.bind(pool)
        asm.resolveFixups()
        let got = try Self.disassemble(asm.bytes)
        #expect(got == ["movsd xmm1, qword ptr [rip + 0x35]", "divsd xmm3, qword ptr [rip + 0x2d]", "addss xmm12, dword ptr [rip + 0x24]",
                        "vmulsd xmm9, xmm2, qword ptr [rip + 0x1c]", "pshufd xmm2, xmmword ptr [rip + 0x13], 0x1b",
                        "pshufb xmm10, xmmword ptr [rip + 0x9]", "vcmpleps xmm1, xmm2, xmmword ptr [rip]"])
    }

    @Test func labelsAndJumps() throws {
        try #require(Self.toolsPresent, "llvm-objdump is not on PATH")
        var asm = X64Assembler()
        let top = asm.newLabel(), out = asm.newLabel()
        asm.bind(top)
        asm.alu(.sub, .w32, .rax, imm: 1)           // 3 bytes
        asm.jcc(.e, out)                            // forward: rel32, 6 bytes
        asm.jmp(top)                                // backward: short, 2 bytes
        for _ in 0..<200 { asm.byte(0x90) }
        asm.jcc(.ne, top)                           // backward beyond rel8: near
        asm.jmp(out)                                // forward: rel32
        asm.bind(out)
        asm.ret()
        asm.resolveFixups()
        let got = try Self.disassemble(asm.bytes).filter { $0 != "nop" }
        #expect(got == ["sub eax, 0x1", "je 0xde <_binary_code_bin_start+0xde>", "jmp 0x0 <_binary_code_bin_start>",
                        "jne 0x0 <_binary_code_bin_start>", "jmp 0xde <_binary_code_bin_start+0xde>", "ret"])
    }
}
