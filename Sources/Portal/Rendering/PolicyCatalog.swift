import Policy

/// The plans and operation prices of the site's policy, put in display order once, so no page ever
/// states a number the policy does not.
struct PolicyCatalog: Sendable {
    /// An operation and its price in tokens.
    struct OperationPrice: Sendable {
        let operation: String
        let tokens: Int64
        /// True for operations a generation rule may choose: those are charged per image.
        let perImage: Bool
    }

    /// Smallest allowance first (names break ties), the order a pricing table reads naturally.
    let plans: [Plan]
    let defaultPlan: String
    /// Alphabetical by operation name.
    let prices: [OperationPrice]
    /// The most images one generation may ask for.
    let maxImages: Int64

    init(policy: EdgePolicy) {
        plans = policy.plans.plans.values.sorted {
            ($0.monthlyTokens, $0.name) < ($1.monthlyTokens, $1.name)
        }
        defaultPlan = policy.plans.defaultPlan
        let generated = Set(policy.prices.generationRules.map(\.operation))
        prices = policy.prices.prices.keys.sorted().map { operation in
            OperationPrice(operation: operation, tokens: policy.prices.prices[operation] ?? 0,
                           perImage: generated.contains(operation))
        }
        maxImages = policy.prices.maxImages
    }

    func plan(named name: String) -> Plan? { plans.first { $0.name == name } }

    /// Operation names, for the usage chart's stable colours.
    var operations: [String] { prices.map(\.operation) }

    /// "2,000 tokens a month".
    static func allowance(of plan: Plan) -> String {
        "\(PortalFormat.tokens(plan.monthlyTokens)) tokens a month"
    }

    /// What happens to unused tokens on `plan`, in words.
    static func rolloverDescription(of plan: Plan) -> String {
        guard plan.rollover else { return "Unused tokens expire at the end of each month." }
        if let cap = plan.rolloverCap {
            return "Unused tokens roll over, up to a balance of \(PortalFormat.tokens(cap))."
        }
        return "Unused tokens roll over with no cap."
    }
}
