/// Polls `condition` every 5 ms until it holds or `timeout` passes; true if it held.
func eventually(timeout: Duration = .seconds(2), _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while try !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}
