/// What `/readyz` answers: named checks that must all pass before a load balancer should send traffic.
///
/// The admin server calls its readiness closure once per `/readyz` request, on an event loop, so building a
/// report must be cheap and must not block (read flags; do not open transactions or touch the disk).
public struct ReadinessReport: Sendable, Equatable {
    /// One named check, e.g. `ledger` or `policy`.
    public struct Check: Sendable, Equatable {
        /// The key in the `checks` JSON object; unique within a report.
        public var name: String
        /// Whether this check passes.
        public var isOK: Bool
        /// A short reason shown for a failing check (`closed`, `draining`); passing checks show `ok`.
        public var detail: String

        /// - Parameters:
        ///   - name: The key in the `checks` JSON object.
        ///   - ok: Whether the check passes.
        ///   - detail: Why it fails; `failing` when nil. Ignored for a passing check.
        public init(_ name: String, ok: Bool, detail: String? = nil) {
            self.name = name
            self.isOK = ok
            self.detail = ok ? "ok" : (detail ?? "failing")
        }

        /// A passing check.
        public static func ok(_ name: String) -> Check {
            Check(name, ok: true)
        }

        /// A failing check with its reason.
        public static func failing(_ name: String, _ detail: String) -> Check {
            Check(name, ok: false, detail: detail)
        }
    }

    /// The checks, in the order they are reported.
    public var checks: [Check]

    /// - Parameter checks: The checks, in report order; no checks means ready.
    public init(checks: [Check]) {
        self.checks = checks
    }

    /// True when every check passes.
    public var isReady: Bool { checks.allSatisfy(\.isOK) }

    /// `{"status":"ready"|"not_ready","checks":{name: "ok"|detail, …}}`.
    var jsonBody: String {
        var json = "{\"status\":"
        json += isReady ? "\"ready\"" : "\"not_ready\""
        json += ",\"checks\":{"
        for (index, check) in checks.enumerated() {
            if index > 0 { json += "," }
            json += LocalResponse.jsonString(check.name)
            json += ":"
            json += LocalResponse.jsonString(check.detail)
        }
        return json + "}}"
    }
}
