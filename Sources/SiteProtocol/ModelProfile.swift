import JSONCore

/// Token limits of one model on the site (MODEL_PROFILE_JSON and the MODEL_PROFILE_DEFAULT_* names).
public struct ModelProfile: Sendable, Equatable {
    public var contextWindow: Int
    public var maxInputTokens: Int
    public var maxNewTokens: Int
    /// Kept free for the answer when budgeting the input; nil: the driver-wide
    /// TOKEN_BUDGET_DEFAULT_RESERVED_OUTPUT_TOKENS applies (see SiteRequestOptions).
    public var reservedOutputTokens: Int?

    /// The old service's defaults for unknown models.
    public static let standard = ModelProfile(contextWindow: 200_000, maxInputTokens: 120_000, maxNewTokens: 8192)

    public init(contextWindow: Int, maxInputTokens: Int, maxNewTokens: Int, reservedOutputTokens: Int? = nil) {
        self.contextWindow = contextWindow
        self.maxInputTokens = maxInputTokens
        self.maxNewTokens = maxNewTokens
        self.reservedOutputTokens = reservedOutputTokens
    }

    /// Reads MODEL_PROFILE_JSON (see `ModelProfiles.parse`).
    public static func parse(json: String?, defaults: ModelProfile = .standard) throws(ModelProfileError) -> ModelProfiles {
        try ModelProfiles.parse(json: json, defaults: defaults)
    }
}

/// The profiles of MODEL_PROFILE_JSON plus the defaults for every other model.
public struct ModelProfiles: Sendable, Equatable {
    public var defaults: ModelProfile
    public var models: [String: ModelProfile]

    public init(defaults: ModelProfile = .standard, models: [String: ModelProfile] = [:]) {
        self.defaults = defaults
        self.models = models
    }

    /// The client's model name as written, else without its `provider/` prefix, else the defaults.
    public func profile(for model: String) -> ModelProfile {
        models[model] ?? models[SiteRequestBuilder.modelSlug(model)] ?? defaults
    }

    /// Reads MODEL_PROFILE_JSON: `{"model": {"context_window": …, "max_input_tokens": …,
    /// "max_new_tokens": …, "reserved_output_tokens": …}}`. Fields a model leaves out come from
    /// `defaults`; unknown fields are ignored (the old service's files may hold more). nil or blank
    /// text means no per-model profiles. Errors name the model and the field.
    public static func parse(json: String?, defaults: ModelProfile = .standard) throws(ModelProfileError) -> ModelProfiles {
        guard let json, !json.trimmingWhitespace().isEmpty else { return ModelProfiles(defaults: defaults, models: [:]) }
        let root: JSONValue
        do { root = try JSONParser.parse(json) } catch { throw ModelProfileError("MODEL_PROFILE_JSON is not valid JSON (\(error.description))") }
        guard let object = root.objectValue else {
            throw ModelProfileError("MODEL_PROFILE_JSON must be an object of model names, not \(article(root.typeName))")
        }
        var models: [String: ModelProfile] = [:]
        for (model, entry) in object.entries {
            guard case .object = entry else {
                throw ModelProfileError("MODEL_PROFILE_JSON: model \"\(model)\" must be an object, not \(article(entry.typeName))")
            }
            func field(_ name: String, _ fallback: Int?) throws(ModelProfileError) -> Int? {
                guard let value = entry[name], !value.isNull else { return fallback }
                let n: Int? =
                    switch value {
                    case .number: value.intValue
                    case .string(let s): Int(s.trimmingWhitespace())  // .env authors quote numbers
                    default: nil
                    }
                guard let n, n > 0 else {
                    throw ModelProfileError("MODEL_PROFILE_JSON: model \"\(model)\": \(name) must be a positive integer")
                }
                return n
            }
            models[model] = ModelProfile(
                contextWindow: try field("context_window", defaults.contextWindow)!,
                maxInputTokens: try field("max_input_tokens", defaults.maxInputTokens)!,
                maxNewTokens: try field("max_new_tokens", defaults.maxNewTokens)!,
                reservedOutputTokens: try field("reserved_output_tokens", defaults.reservedOutputTokens))
        }
        return ModelProfiles(defaults: defaults, models: models)
    }
}

private func article(_ typeName: String) -> String { (typeName.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + typeName }

public struct ModelProfileError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
