import ArgumentParser
import ProvidentDomain
import ProvidentSync

/// The closed sets of values the command lines take, read by the domain's own parsers (so the
/// English and the Chinese names both work, as at the prompts), listed in help by their typed
/// names with their names in the user's language. A value outside the set is refused by the
/// parser before anything runs.
public protocol CommandLineChoice: CaseIterable, RawRepresentable where RawValue == String {
    init(typed text: String) throws(DomainError)
    /// The name typed on a command line.
    var typed: String { get }
    func label(_ l: Language) -> String
}

extension ExpressibleByArgument where Self: CommandLineChoice {
    public init?(argument: String) {
        guard let value = try? Self(typed: argument) else { return nil }
        self = value
    }

    public static var allValueStrings: [String] { allCases.map(\.typed) }
    public var defaultValueDescription: String { typed }
    public static var allValueDescriptions: [String: String] { described(allCases.map { ($0.typed, $0.label(language)) }) }
}

/// Each value with its name in this run's language; none when every name is the typed one.
func described(_ pairs: [(String, String)]) -> [String: String] {
    pairs.allSatisfy { $0.0 == $0.1 } ? [:] : Dictionary(pairs, uniquingKeysWith: { first, _ in first })
}

extension AccountCategory: CommandLineChoice, ExpressibleByArgument {}
extension PaymentMethod: CommandLineChoice, ExpressibleByArgument {}
extension EmployerKind: CommandLineChoice, ExpressibleByArgument {}
extension VisitPurpose: CommandLineChoice, ExpressibleByArgument {}
extension VisitOutcome: CommandLineChoice, ExpressibleByArgument {}
extension PlaceKind: CommandLineChoice, ExpressibleByArgument {}
extension ReliefKind: CommandLineChoice, ExpressibleByArgument {}
extension ResolutionBody: CommandLineChoice, ExpressibleByArgument {}

extension ComplianceStatus: ExpressibleByArgument {
    /// `in-arrears`, `inArrears` or the Chinese label (欠缴).
    public init?(argument: String) {
        let key = argument.replacingOccurrences(of: "-", with: "").lowercased()
        guard let value = Self.allCases.first(where: { $0.rawValue.lowercased() == key || $0.label(.chinese) == argument }) else { return nil }
        self = value
    }
    public static var allValueStrings: [String] { allCases.map(\.typed) }
    public var defaultValueDescription: String { typed }
    public static var allValueDescriptions: [String: String] { described(allCases.map { ($0.typed, $0.label(language)) }) }
}






extension TextEncoding: ExpressibleByArgument {
    public init?(argument: String) { guard let value = Self(typed: argument) else { return nil }; self = value }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
