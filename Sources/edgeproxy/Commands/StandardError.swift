#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin `write(2)` to stderr, kept apart so the command files need no libc import.
func writeToStandardError(_ pointer: UnsafePointer<UInt8>, _ count: Int) -> Int {
    write(2, pointer, count)
}

/// Flushes stdout (and every other C stream) so banners appear at once when piped to a log.
func flushStandardOutput() {
    fflush(nil)
}
