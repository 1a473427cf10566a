import ArgumentParser
import EdgeProxy
import Policy

/// `edgeproxy check`: validates a policy file and names the offending key.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate a policy file; exits non-zero and names the key at fault.")

    @Option(name: .long, help: "Policy file (default: $EDGE_CONFIG or policies/default.yaml).")
    var config: String?

    func run() throws {
        let environment = EdgeEnvironment.load()
        let path = config ?? PolicyLoader.defaultPath(environment: environment)
        do {
            let policy = try PolicyLoader.load(path: path, environment: environment)
            _ = try FilterRegistry.builtIn.chains(for: policy.routes)
            _ = try LocalHandlerRegistry.builtIn.resolve(for: policy.routes)
            print("\(path): OK — \(policy.routes.routes.count) routes, \(policy.upstreams.count) upstreams, \(policy.operationPrices.count) priced operations, \(policy.plans.plans.count) plans")
        } catch {
            printError("\(path): invalid policy: \(error)")
            throw ExitCode(2)
        }
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    var stderr = StandardErrorStream()
    print(message, to: &stderr)
}

/// `TextOutputStream` over file descriptor 2.
struct StandardErrorStream: TextOutputStream {
    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = writeToStandardError(buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
