/// The language people read: Chinese or English.
public enum Language: String, Hashable, Sendable, CaseIterable {
    case english = "en"
    case chinese = "zh"

    /// The language asked for by the environment: the first of `LC_ALL`, `LC_MESSAGES`, `LANG`
    /// that is set and not empty (the POSIX order) decides; Chinese when it starts with `zh`,
    /// English otherwise.
    public static func from(environment: [String: String]) -> Language {
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let value = environment[name], !value.isEmpty {
                return value.lowercased().hasPrefix("zh") ? .chinese : .english
            }
        }
        return .english
    }

    /// Picks the text for this language.
    @inlinable
    public func pick(_ english: String, _ chinese: String) -> String {
        self == .chinese ? chinese : english
    }
}
