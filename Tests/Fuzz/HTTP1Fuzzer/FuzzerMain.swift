// libFuzzer target for the strict HTTP/1.1 codec (RequestHeadParser, BodyDecoder, ResponseHeadParser,
// ChunkedEncoder, HeadRewriter), driven through the public `HTTP1Conformance` façade; the
// invariants are in Checks.swift.
//
// Fuzz with scripts/fuzz.sh (CI: `bash scripts/fuzz.sh 60`), which builds
//   swift build --scratch-path .build-fuzz --product HTTP1Fuzzer \
//     -Xswiftc -sanitize=fuzzer -Xswiftc -DHTTP1_LIBFUZZER
// Built without those flags (a plain `swift build`), the program replays the files named on its
// command line through the same checks: `HTTP1Fuzzer Tests/Fuzz/corpus/*`.

#if HTTP1_LIBFUZZER
import Glibc

/// libFuzzer's driver (linked by -sanitize=fuzzer). SwiftPM links every executable's `main` to
/// `<target>_main`, i.e. to `HTTP1FuzzerMain.main()` below, so libFuzzer is started from there.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#else
import Foundation
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func http1FuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input: [UInt8] = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    HTTP1FuzzChecks.run(input)
    return 0
}

@main
enum HTTP1FuzzerMain {
    static func main() {
        #if HTTP1_LIBFUZZER
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in http1FuzzerTestOneInput(data, size) })
        #else
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("HTTP1Fuzzer: cannot read \(path)")
                exit(2)
            }
            HTTP1FuzzChecks.run(Array(data))
            count += 1
        }
        print("HTTP1Fuzzer: \(count) input(s) replayed, every invariant held (build with scripts/fuzz.sh to fuzz)")
        #endif
    }
}
