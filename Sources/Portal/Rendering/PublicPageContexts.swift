import Foundation
import Policy

// What the templates of the pages anyone may see read: sign-in, sign-up, pricing and the error pages.
// Stored properties only, because templates read values by name through reflection.

/// `signin.mustache`.
struct SignInContext {
    let layout: LayoutContext
    let callbackURL: String
    let notice: String?
    let signUpURL: String

    init(_ page: SignInPage, layout: LayoutContext) {
        self.layout = layout
        callbackURL = PortalRedirect.callbackURL(page.callbackURL)
        notice = page.notice
        signUpURL = Self.link("/auth/signup", keeping: callbackURL)
    }

    /// `path`, carrying the callback along when it is not the default, so switching between sign-in
    /// and sign-up keeps where the visitor was going.
    static func link(_ path: String, keeping callbackURL: String) -> String {
        guard callbackURL != PortalRedirect.defaultCallbackURL else { return path }
        var unreserved = CharacterSet(charactersIn: "-._~")
        unreserved.formUnion(CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
        let encoded = callbackURL.addingPercentEncoding(withAllowedCharacters: unreserved) ?? PortalRedirect.defaultCallbackURL
        return path + "?callbackUrl=" + encoded
    }
}

/// `signup.mustache`.
struct SignUpContext {
    let layout: LayoutContext
    let callbackURL: String
    let signInURL: String
    let minimumPasswordLength: Int
    let defaultPlanLabel: String
    let defaultPlanTokens: String

    init(_ page: SignUpPage, catalog: PolicyCatalog, layout: LayoutContext) {
        self.layout = layout
        callbackURL = PortalRedirect.callbackURL(page.callbackURL)
        signInURL = SignInContext.link("/auth/signin", keeping: callbackURL)
        minimumPasswordLength = SignUpPage.minimumPasswordLength
        defaultPlanLabel = PortalFormat.operationLabel(catalog.defaultPlan)
        defaultPlanTokens = PortalFormat.tokens(catalog.plan(named: catalog.defaultPlan)?.monthlyTokens ?? 0)
    }
}

/// `pricing.mustache`.
struct PricingContext {
    /// A plan card.
    struct PlanCard {
        let name: String
        let label: String
        let monthlyTokens: String
        let rollover: String
        let isDefault: Bool
        let isCurrent: Bool
    }

    /// A row of the price table.
    struct PriceRow {
        let operation: String
        let label: String
        let price: String
        let unit: String
    }

    let layout: LayoutContext
    let plans: [PlanCard]
    let prices: [PriceRow]
    let maxImages: String

    init(_ page: PricingPage, catalog: PolicyCatalog, layout: LayoutContext) {
        self.layout = layout
        plans = catalog.plans.map { plan in
            PlanCard(name: plan.name, label: PortalFormat.operationLabel(plan.name),
                     monthlyTokens: PortalFormat.tokens(plan.monthlyTokens),
                     rollover: PolicyCatalog.rolloverDescription(of: plan),
                     isDefault: plan.name == catalog.defaultPlan, isCurrent: plan.name == page.viewer?.plan)
        }
        prices = catalog.prices.map { price in
            PriceRow(operation: price.operation, label: PortalFormat.operationLabel(price.operation),
                     price: PortalFormat.tokens(price.tokens), unit: price.perImage ? "per image" : "per request")
        }
        maxImages = PortalFormat.tokens(catalog.maxImages)
    }
}

/// `error.mustache`: the 403 and 404 pages.
struct ErrorContext {
    let layout: LayoutContext
    let status: Int
    let heading: String
    let message: String
    let homeURL: String
    let homeLabel: String

    static func forbidden(viewer: Viewer?, layout: LayoutContext) -> ErrorContext {
        ErrorContext(layout: layout, status: 403, heading: "You do not have access to this page",
                     message: viewer == nil
                        ? "Please sign in with an account that may see it."
                        : "Your account is signed in but not allowed to open it. Ask an administrator if you need access.",
                     homeURL: viewer == nil ? "/auth/signin" : "/dashboard",
                     homeLabel: viewer == nil ? "Sign in" : "Go to your dashboard")
    }

    static func notFound(viewer: Viewer?, layout: LayoutContext) -> ErrorContext {
        ErrorContext(layout: layout, status: 404, heading: "Page not found",
                     message: "There is no page at this address. It may have moved, or the link may be mistyped.",
                     homeURL: viewer == nil ? "/pricing" : "/dashboard",
                     homeLabel: viewer == nil ? "See plans and prices" : "Go to your dashboard")
    }
}
