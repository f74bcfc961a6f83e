import ProvidentSync
import Testing

@Suite struct CanonicalEncodingTests {
    @Test func sortsKeysAndWritesNoWhitespace() throws {
        let value: CanonicalValue = ["zeta": 1, "alpha": ["b": true, "a": nil], "Mid": [1, -2, "x"]]
        #expect(String(decoding: try CanonicalEncoder.encode(value), as: UTF8.self)
            == #"{"Mid":[1,-2,"x"],"alpha":{"a":null,"b":true},"zeta":1}"#)
    }

    @Test(arguments: [
        ("plain", #""plain""#),
        ("引号\"与\\反斜杠", #""引号\"与\\反斜杠""#),
        ("\u{08}\u{09}\u{0A}\u{0C}\u{0D}", #""\b\t\n\f\r""#),
        ("\u{00}\u{1F}\u{7F}", #""\u0000\u001f"# + "\u{7F}\""),
        ("/é€😀", "\"/é€😀\""),
    ])
    func escapesOnlyWhatMustBeEscaped(text: String, expected: String) throws {
        let bytes = try CanonicalEncoder.encode(.string(text))
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
        #expect(try CanonicalDecoder.decode(bytes, limit: 1_000) == .string(text))
    }

    /// Long strings are checked eight bytes at a time: a character to escape, or one beyond
    /// ASCII, is found wherever it falls in or across those words.
    @Test func findsWhatMustBeEscapedAtEveryPlaceOfALongString() throws {
        let escapes: [(Character, String)] = [("\u{01}", #"\u0001"#), ("\u{1F}", #"\u001f"#), ("\"", #"\""#), ("\\", #"\\"#),
                                              ("\n", #"\n"#), ("é", "é"), ("\u{7F}", "\u{7F}"), (" ", " "), ("~", "~")]
        for length in [1, 7, 8, 9, 15, 16, 17, 40] {
            let plain = String(repeating: "Az09+/=", count: 6).prefix(length)
            #expect(String(decoding: try CanonicalEncoder.encode(.string(String(plain))), as: UTF8.self) == "\"\(plain)\"")
            for place in 0..<length {
                for (character, written) in escapes {
                    var text = Array(plain)
                    text[place] = character
                    let expected = "\"" + String(text[..<place]) + written + String(text[(place + 1)...]) + "\""
                    let bytes = try CanonicalEncoder.encode(.string(String(text)))
                    #expect(String(decoding: bytes, as: UTF8.self) == expected)
                }
            }
        }
    }

    @Test(arguments: [Int64(0), 1, -1, 9, 10, -10, 42, 100, 1_234_567_890, 9_007_199_254_740_991, -9_007_199_254_740_991])
    func roundTripsIntegersInRange(value: Int64) throws {
        let bytes = try CanonicalEncoder.encode(.integer(value))
        #expect(String(decoding: bytes, as: UTF8.self) == String(value))
        #expect(try CanonicalDecoder.decode(bytes, limit: 100) == .integer(value))
    }

    /// A member given as canonical bytes lands where its key sorts, as the same value would.
    @Test(arguments: ["a", "entries", "m", "zz"])
    func splicesAMemberWrittenAsBytesInKeyOrder(key: String) throws {
        let members: [String: CanonicalValue] = ["cursor": 7, "more": true, "log": ["proof": ["x"], "size": 3]]
        var list: [UInt8] = [UInt8(ascii: "[")]
        for (index, bytes) in [[], [1], [1, 2], [1, 2, 3], [0xFF, 0xFE, 0xFD, 0xFC], Array(0...255)].enumerated() as EnumeratedSequence<[[UInt8]]> {
            if index > 0 { list.append(UInt8(ascii: ",")) }
            CanonicalEncoder.appendBase64(bytes, to: &list)
            list.append(UInt8(ascii: ","))
            try CanonicalEncoder.appendInteger(Int64(index) * -1_000_003, to: &list)
        }
        list.append(UInt8(ascii: "]"))
        let tree: CanonicalValue = .array([[], [1], [1, 2], [1, 2, 3], [0xFF, 0xFE, 0xFD, 0xFC], Array(0...255)].enumerated().flatMap { index, bytes in
            [CanonicalValue.string(Base64.encode(bytes)), .integer(Int64(index) * -1_000_003)]
        })
        var whole = members
        whole[key] = tree
        #expect(try CanonicalEncoder.encode(members, splicing: key, canonical: list) == CanonicalEncoder.encode(.object(whole)))
        #expect(throws: CanonicalError.self) { try CanonicalEncoder.appendInteger(.max, to: &list) }
    }

    @Test func refusesToEncodeWhatHasNoCanonicalForm() {
        #expect(throws: CanonicalError.self) { try CanonicalEncoder.encode(.integer(9_007_199_254_740_992)) }
        #expect(throws: CanonicalError.self) { try CanonicalEncoder.encode(.integer(.min)) }
        #expect(throws: CanonicalError.self) { try CanonicalEncoder.encode(.string("e\u{301}")) }
        #expect(throws: CanonicalError.self) { try CanonicalEncoder.encode(["bad key": 1]) }
        #expect(throws: CanonicalError.self) { try CanonicalEncoder.encode(["": 1]) }
        var deep: CanonicalValue = 1
        for _ in 0..<17 { deep = [deep] }
        #expect(throws: CanonicalError.self) { try CanonicalEncoder.encode(deep) }
    }

    /// Every spelling the decoder must refuse, with the reason it must give.
    @Test(arguments: [
        (#"{"b":1,"a":2}"#, "key_order"),
        (#"{"a":1,"a":2}"#, "duplicate_key"),
        (#"{"a":1.5}"#, "float"),
        (#"{"a":1e3}"#, "float"),
        (#"{"a":1E3}"#, "float"),
        (#"{"a":-0}"#, "non_canonical_integer"),
        (#"{"a":007}"#, "non_canonical_integer"),
        (#"{"a":9007199254740992}"#, "integer_range"),
        (#"{"a":-99999999999999999999999}"#, "integer_range"),
        (#"{"a": 1}"#, "unexpected_byte"),
        (#" {"a":1}"#, "unexpected_byte"),
        ("{\"a\":1}\n", "trailing_bytes"),
        (#"{"a":1}{}"#, "trailing_bytes"),
        (#"{"a":1"#, "unexpected_end"),
        (#""abc"#, "unexpected_end"),
        (#"{"a b":1}"#, "invalid_key"),
        (#"{"":1}"#, "invalid_key"),
        (#"{"\u0061":1}"#, "invalid_key"),
        (#""\/""#, "invalid_escape"),
        (#""\u0041""#, "invalid_escape"),
        (#""\u000A""#, "invalid_escape"),
        (#""\u000a""#, "invalid_escape"),
        (#""\u001F""#, "invalid_escape"),
        (#""\x""#, "invalid_escape"),
        ("\"tab\there\"", "control_character"),
        ("\"e\u{301}\"", "not_nfc"),
        (#"[1,]"#, "unexpected_byte"),
        (#"[,1]"#, "unexpected_byte"),
        (#"tru"#, "unexpected_end"),
        (#"nul"#, "unexpected_end"),
        (#"True"#, "unexpected_byte"),
        (#"+1"#, "unexpected_byte"),
        (#"-"#, "unexpected_end"),
        (#""#, "unexpected_end"),
    ])
    func rejectsNonCanonicalSpellings(text: String, reason: String) {
        do {
            let value = try CanonicalDecoder.decode(Array(text.utf8), limit: 1_000)
            Issue.record("accepted \(text) as \(value)")
        } catch {
            #expect(error.code == reason, "\(text): \(error.message)")
        }
    }

    @Test(arguments: [
        [UInt8]([0x22, 0xC0, 0xAF, 0x22]),             // overlong "/"
        [0x22, 0xED, 0xA0, 0x80, 0x22],                 // UTF-16 surrogate U+D800
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],           // above U+10FFFF
        [0x22, 0xE4, 0xB8, 0x22],                       // truncated sequence
        [0x22, 0x80, 0x22],                             // lone continuation byte
        [0x22, 0xFF, 0x22],                             // never valid
    ])
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        #expect(throws: CanonicalError.invalidUTF8(offset: 1)) { try CanonicalDecoder.decode(bytes, limit: 100) }
    }

    @Test func rejectsOversizeInputBeforeParsing() {
        let bytes = Array(repeating: UInt8(ascii: "1"), count: 101)
        #expect(throws: CanonicalError.tooLarge(size: 101, limit: 100)) { try CanonicalDecoder.decode(bytes, limit: 100) }
    }

    @Test func rejectsNestingDeeperThanSixteen() {
        let ok = String(repeating: "[", count: 16) + String(repeating: "]", count: 16)
        #expect(throws: Never.self) { try CanonicalDecoder.decode(utf8(ok), limit: 1_000) }
        let deep = String(repeating: "[", count: 17) + String(repeating: "]", count: 17)
        #expect(throws: CanonicalError.tooDeep(offset: 16)) { try CanonicalDecoder.decode(utf8(deep), limit: 1_000) }
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: CanonicalError.self) { try CanonicalDecoder.decode(utf8(hostile), limit: 200_000) }
    }

    @Test func acceptedValuesReEncodeToTheSameBytes() throws {
        let text = #"{"a":[true,false,null,0,-5,"x\n"],"b":{},"c":[],"d":"洛阳 \"52\""}"#
        let value = try CanonicalDecoder.decode(utf8(text), limit: 1_000)
        #expect(try CanonicalEncoder.encode(value) == utf8(text))
    }
}

@Suite struct Base64Tests {
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                      ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")])
    func matchesRFC4648TestVectors(plain: String, encoded: String) {
        #expect(Base64.encode(utf8(plain)) == encoded)
        #expect(Base64.decode(encoded) == utf8(plain))
    }

    @Test(arguments: ["Zg", "Zg=", "Zh==", "Zm9=", "Zm9v\n", "Zm 9v", "Zm9v====", "Zg==Zg==", "Zm-v", "Zm_v", "=Zg="])
    func rejectsNonCanonicalBase64(text: String) {
        #expect(Base64.decode(text) == nil)
    }

    /// Every byte string survives the round trip, and every one-character change of an encoding
    /// either is refused or is itself the one spelling of what it decodes to.
    @Test func roundTripsAndHasOneSpellingUnderMutation() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n".utf8)
        for length in 0..<48 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let text = Base64.encode(bytes)
                #expect(Base64.decode(text) == bytes)
                guard !text.isEmpty else { continue }
                var mutated = Array(text.utf8)
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = alphabet.randomElement(using: &generator) ?? 0x41
                let other = String(decoding: mutated, as: UTF8.self)
                if let decoded = Base64.decode(other) { #expect(Base64.encode(decoded) == other) }
            }
        }
    }
}
