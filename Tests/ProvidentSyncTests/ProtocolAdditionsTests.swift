import ProvidentCrypto
import ProvidentSync
import Testing

@Suite struct RecordTransferTests {
    @Test func mutableRecordsAndFactsSurviveTheTransferForm() throws {
        let a = TestDevice(1).id, b = TestDevice(2).id
        let key = RecordKey(type: "account", id: "acc-1")
        var state = try RecordMerge.apply(Operation(record: key, kind: .create, fields: ["phone": "1", "name": "张三"]),
                                          dot: Dot(device: a, sequence: 1), time: HLCTimestamp(wallMillis: 10, counter: 0), to: nil).state
        state = try RecordMerge.apply(Operation(record: key, kind: .update, fields: ["phone": "2"], context: VersionVector([a: 1])),
                                      dot: Dot(device: b, sequence: 1), time: HLCTimestamp(wallMillis: 20, counter: 3), to: state).state
        #expect(RecordState(key: key, transferBytes: try state.transferBytes()) == state)

        let factKey = RecordKey(type: "deposit", id: "dep-1")
        let fact = try RecordMerge.apply(Operation(record: factKey, kind: .fact, fields: ["amountFen": 600]),
                                         dot: Dot(device: a, sequence: 2), time: HLCTimestamp(wallMillis: 30, counter: 0), to: nil).state
        #expect(RecordState(key: factKey, transferBytes: try fact.transferBytes()) == fact)
        #expect(RecordState(key: factKey, transferBytes: Array(#"{"kind":"fact"}"#.utf8)) == nil)
    }

    @Test func aDocumentFromStoredFormsIsByteForByteTheEncodersDocument() throws {
        let a = TestDevice(1).id, b = TestDevice(2).id
        let server = SigningKey.generate()
        var states: [RecordState] = []
        let account = RecordKey(type: "account", id: "acc-1")
        var state = try RecordMerge.apply(Operation(record: account, kind: .create, fields: ["phone": "1", "name": "张三", "note": "第一行\n\"引号\""]),
                                          dot: Dot(device: a, sequence: 1), time: HLCTimestamp(wallMillis: 10, counter: 0), to: nil).state
        state = try RecordMerge.apply(Operation(record: account, kind: .update, fields: ["phone": "2"], context: VersionVector([a: 1])),
                                      dot: Dot(device: b, sequence: 1), time: HLCTimestamp(wallMillis: 20, counter: 3), to: state).state
        states.append(state)
        for n in 1...3 {
            states.append(try RecordMerge.apply(Operation(record: RecordKey(type: "deposit", id: "dep-\(n)"), kind: .fact, fields: ["amountFen": .integer(Int64(n))]),
                                                dot: Dot(device: a, sequence: UInt64(n + 1)), time: HLCTimestamp(wallMillis: 30, counter: 0), to: nil).state)
        }
        for records in [states, [states[0]], []] {
            let encoded = try SignedDocument(asOf: 42, content: .records(records), signingWith: server)
            let spliced = try SignedDocument(asOf: 42, transferForms: try records.map { (key: $0.key, form: try $0.transferBytes()) }, signingWith: server)
            #expect(spliced.bytes == encoded.bytes)
            let read = try SignedDocument(envelope: spliced.envelopeValue, serverKey: server.publicKey)
            #expect(read.content == .records(records) && read.asOf == 42)
            // A device stores each record as the signed bytes carry it.
            #expect(try read.transferForms?.map(Array.init) == records.map { try $0.transferBytes() })
        }
        #expect(throws: SyncError.self) {
            try SignedDocument(asOf: 1, transferForms: [(key: account, form: Array("[1]".utf8))], signingWith: server)
        }
        let exit = try SignedDocument(envelope: try SignedDocument(asOf: 1, content: .scopeExit([account]), signingWith: server).envelopeValue,
                                      serverKey: server.publicKey)
        #expect(exit.transferForms == nil)
    }
}

@Suite struct WithdrawTests {
    static let a = TestDevice(1).id, x = TestDevice(9).id
    let key = RecordKey(type: "account", id: "acc-1")

    @Test func withdrawingARejectedWriteGivesTheStateThatNeverHadIt() throws {
        let create = Operation(record: key, kind: .create, fields: ["phone": "1", "name": "n"])
        let mine = Operation(record: key, kind: .update, fields: ["phone": "3", "name": "m"], context: VersionVector([Self.a: 1]))
        let theirs = Operation(record: key, kind: .update, fields: ["phone": "2"], context: VersionVector([Self.a: 1]))
        func at(_ millis: UInt64) -> HLCTimestamp { HLCTimestamp(wallMillis: millis, counter: 0) }

        var with = try RecordMerge.apply(create, dot: Dot(device: Self.a, sequence: 1), time: at(1), to: nil).state
        let mineOutcome = try RecordMerge.apply(mine, dot: Dot(device: Self.x, sequence: 4), time: at(3), to: with)
        with = mineOutcome.state
        let theirsOutcome = try RecordMerge.apply(theirs, dot: Dot(device: Self.a, sequence: 2), time: at(2), to: with)
        with = theirsOutcome.state
        #expect(theirsOutcome.conflicts.count == 1)

        var without = try RecordMerge.apply(create, dot: Dot(device: Self.a, sequence: 1), time: at(1), to: nil).state
        without = try RecordMerge.apply(theirs, dot: Dot(device: Self.a, sequence: 2), time: at(2), to: without).state

        let (withdrawn, dropped) = RecordMerge.withdraw(Dot(device: Self.x, sequence: 4), wasCreate: false, from: with)
        #expect(withdrawn == without)
        #expect(dropped == theirsOutcome.conflicts.map(\.id))
    }

    @Test func withdrawingTheOnlyWriteRemovesTheRecord() throws {
        let created = try RecordMerge.apply(Operation(record: key, kind: .create, fields: ["phone": "1"]),
                                            dot: Dot(device: Self.x, sequence: 1), time: HLCTimestamp(wallMillis: 1, counter: 0), to: nil).state
        #expect(RecordMerge.withdraw(Dot(device: Self.x, sequence: 1), wasCreate: true, from: created).state == nil)
        let fact = try RecordMerge.apply(Operation(record: RecordKey(type: "deposit", id: "d"), kind: .fact, fields: ["amountFen": 1]),
                                         dot: Dot(device: Self.x, sequence: 2), time: HLCTimestamp(wallMillis: 1, counter: 0), to: nil).state
        #expect(RecordMerge.withdraw(Dot(device: Self.x, sequence: 2), wasCreate: false, from: fact).state == nil)
    }
}

@Suite struct RequestSignatureTests {
    let device = TestDevice(1)
    let body = Array(#"{"changeSets":[]}"#.utf8)

    func signed(method: String = "POST", path: String = "/v1/push", query: String = "", date: Int64 = 1_795_397_400_000,
                body: [UInt8]? = nil) -> [String: String] {
        let request = RequestSignature(method: method, path: path, query: query, device: device.id, dateMillis: date,
                                       nonce: "00112233445566778899aabbccddeeff", body: body ?? self.body)
        return Dictionary(uniqueKeysWithValues: request.headers(signedWith: device.key).map { ($0.name, $0.value) })
    }

    func check(_ headers: [String: String], method: String = "POST", path: String = "/v1/push", query: String = "",
               body: [UInt8]? = nil, now: Int64 = 1_795_397_400_000) throws(RequestSignature.Problem) {
        let (request, signature) = try RequestSignature.received(method: method, path: path, query: query,
                                                                 body: body ?? self.body) { headers[$0] }
        try request.verify(signature, publicKey: device.key.publicKey, nowMillis: now, windowMillis: 300_000)
    }

    @Test func acceptsTheRequestAsSigned() throws {
        try check(signed())
        try check(signed(method: "GET", path: "/v1/pull", query: "?cursor=5", body: []), method: "GET", path: "/v1/pull",
                  query: "?cursor=5", body: [])
    }

    @Test func refusesAnyChangeToWhatWasSigned() {
        let headers = signed()
        #expect(throws: RequestSignature.Problem.badSignature) { try check(headers, method: "PUT") }
        #expect(throws: RequestSignature.Problem.badSignature) { try check(headers, path: "/v1/pull") }
        #expect(throws: RequestSignature.Problem.badSignature) { try check(headers, query: "?cursor=0") }
        #expect(throws: RequestSignature.Problem.digestMismatch) { try check(headers, body: Array(#"{"changeSets":[1]}"#.utf8)) }
        var otherNonce = headers
        otherNonce[RequestSignature.Header.nonce] = "ffeeddccbbaa99887766554433221100"
        #expect(throws: RequestSignature.Problem.badSignature) { try check(otherNonce) }
        var noSignature = headers
        noSignature[RequestSignature.Header.signature] = nil
        #expect(throws: RequestSignature.Problem.missingHeader(RequestSignature.Header.signature)) { try check(noSignature) }
    }

    @Test func refusesRequestsOutsideTheTimeWindow() {
        #expect(throws: RequestSignature.Problem.outsideWindow(skewMillis: -300_001, windowMillis: 300_000)) {
            try check(signed(date: 1_795_397_400_000 - 300_001))
        }
        #expect(throws: Never.self) { try check(signed(date: 1_795_397_400_000 + 300_000)) }
    }
}

@Suite struct SignedDocumentTests {
    let server = TestDevice(7)

    @Test func roundTripsAndChecksTheServerSignature() throws {
        let key = RecordKey(type: "deposit", id: "dep-1")
        let state = try RecordMerge.apply(Operation(record: key, kind: .fact, fields: ["amountFen": 600]),
                                          dot: Dot(device: TestDevice(1).id, sequence: 1), time: HLCTimestamp(wallMillis: 5, counter: 0),
                                          to: nil).state
        let document = try SignedDocument(asOf: 42, content: .records([state]), signingWith: server.key)
        let received = try SignedDocument(envelope: document.envelopeValue, serverKey: server.key.publicKey)
        #expect(received.content == .records([state]))
        #expect(received.asOf == 42)
        #expect(throws: SyncError.badSignature) {
            try SignedDocument(envelope: document.envelopeValue, serverKey: TestDevice(8).key.publicKey)
        }
        let exit = try SignedDocument(asOf: 43, content: .scopeExit([key]), signingWith: server.key)
        #expect(try SignedDocument(envelope: exit.envelopeValue, serverKey: server.key.publicKey).content == .scopeExit([key]))
    }
}
