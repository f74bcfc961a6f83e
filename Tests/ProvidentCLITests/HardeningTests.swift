import Foundation
import Testing

/// The server's own TLS, the client's trust in an office's CA, and the limits on connections.
@Suite(.serialized) struct HardeningTests {
    /// A CA, and a certificate it signed for 127.0.0.1 with its key (0600), made with openssl.
    struct Certificates {
        let folder: String
        var ca: String { folder + "/ca.pem" }
        var certificate: String { folder + "/server.pem" }
        var key: String { folder + "/server.key" }

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("provident-tls-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: folder + "/ext", atomically: true, encoding: .utf8)
            let steps: [[String]] = [
                ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", folder + "/ca.key",
                 "-out", folder + "/ca.pem", "-days", "30", "-subj", "/CN=Provident Test CA"],
                ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", folder + "/server.key",
                 "-out", folder + "/server.csr", "-subj", "/CN=127.0.0.1"],
                ["x509", "-req", "-in", folder + "/server.csr", "-CA", folder + "/ca.pem", "-CAkey", folder + "/ca.key",
                 "-CAcreateserial", "-out", folder + "/server.pem", "-days", "30", "-extfile", folder + "/ext"],
            ]
            for step in steps {
                let result = try runProgram("/usr/bin/openssl", step, environment: [:])
                guard result.status == 0 else { throw CertificateFailure(detail: result.stderr) }
            }
            chmod(folder + "/server.key", 0o600)
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }

        var environment: [String: String] {
            ["PROVIDENT_SERVER_TLS_CERTIFICATE": certificate, "PROVIDENT_SERVER_TLS_KEY": key]
        }
    }

    struct CertificateFailure: Error { let detail: String }

    @Test func aServerSpeaksTLSAndAClientTrustsTheOfficesCAOnlyWhenGivenIt() throws {
        let certificates = try Certificates()
        defer { certificates.remove() }
        let server = try ServerProcess(environment: certificates.environment)
        #expect(server.url.hasPrefix("https://"))

        // Without the CA the certificate is refused, said plainly, and nothing is set up.
        let stranger = try CLI()
        let refused = try stranger.sign(["init", "--server", server.url])
        #expect(refused.status == 11 && refused.stderr.contains("is not trusted") && refused.stderr.contains("--ca-file"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: stranger.dataDirectory + "/device.key"))
        let notACA = try stranger.sign(["init", "--server", server.url, "--ca-file", certificates.folder + "/ext"])
        #expect(notACA.status != 0 && notACA.stderr.contains("holds no PEM certificate"), "\(notACA)")

        // With it, the worker enrols, records, and syncs later without giving the CA again.
        let worker = try CLI()
        let enrolled = try worker.sign(["init", "--server", server.url, "--ca-file", certificates.ca])
        #expect(enrolled.status == 0, "\(enrolled)")
        let kept = try FileManager.default.attributesOfItem(atPath: worker.dataDirectory + "/ca.pem")
        #expect((kept[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try worker.sign(["enroll", "--name", "钱七", "--id-number", "360426199101010071", "--phone", "13600136000",
                                 "--category", "gig", "--monthly", "400"]).status == 0)
        let synced = try worker.run(["sync"])
        #expect(synced.status == 0 && synced.stdout.contains("Sent 1"), "\(synced)")

        // Plain HTTP to the TLS port gets no answer from the service.
        let plain = server.url.replacingOccurrences(of: "https://", with: "http://")
        #expect(try ServerProcess.get(plain + "/health") != 200)
    }

    @Test func tlsSetUpMistakesStopTheServerWithAClearMessage() throws {
        let certificates = try Certificates()
        defer { certificates.remove() }
        let cases: [([String: String], String)] = [
            (["PROVIDENT_SERVER_TLS_CERTIFICATE": certificates.certificate], "needs both a certificate"),
            (["PROVIDENT_SERVER_TLS_CERTIFICATE": certificates.folder + "/ext", "PROVIDENT_SERVER_TLS_KEY": certificates.key], "cannot be read as PEM"),
        ]
        for (environment, expected) in cases {
            #expect {
                try ServerProcess(environment: environment)
            } throws: { error in
                "\(error)".contains(expected)
            }
        }
        chmod(certificates.key, 0o644)
        #expect {
            try ServerProcess(environment: certificates.environment)
        } throws: { error in
            "\(error)".contains("chmod 600")
        }
    }

    /// One address holds at most its share of connections; idle ones and requests that never
    /// finish are closed; other addresses are served meanwhile.
    @Test func connectionsAreLimitedPerAddressAndInTime() throws {
        let server = try ServerProcess(environment: ["PROVIDENT_SERVER_MAX_CONNECTIONS_PER_ADDRESS": "4",
                                                     "PROVIDENT_SERVER_IDLE_TIMEOUT_SECONDS": "3",
                                                     "PROVIDENT_SERVER_REQUEST_TIMEOUT_SECONDS": "1"])
        let script = """
            import json, socket, sys, time
            port = int(sys.argv[1])
            def connect(source="127.0.0.1"):
                s = socket.socket()
                s.bind((source, 0))
                s.connect(("127.0.0.1", port))
                s.settimeout(8)
                return s
            def closed(s):
                try:
                    return s.recv(1) == b""
                except (ConnectionResetError, socket.timeout):
                    return isinstance(sys.exc_info()[1], ConnectionResetError)
            result = {}
            held = [connect() for _ in range(4)]
            time.sleep(0.3)
            fifth = connect()
            result["fifthClosed"] = closed(fifth)
            other = connect("127.0.0.2")
            other.sendall(b"GET /health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            result["otherAddress"] = other.recv(4096).split(b"\\r\\n")[0].decode()
            other.close()
            # A request whose body never comes is closed after the request timeout (1 s),
            # well before the idle timeout (3 s).
            for s in held: s.close()
            time.sleep(0.3)
            slow = connect()
            start = time.monotonic()
            slow.sendall(b"POST /v1/push HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 100\\r\\n\\r\\n{")
            result["slowBodyClosed"] = closed(slow)
            result["slowBodySeconds"] = time.monotonic() - start
            # Half a request head, then nothing: closed by the idle timeout.
            dribble = connect()
            start = time.monotonic()
            dribble.sendall(b"GET /health HTT")
            result["halfHeadClosed"] = closed(dribble)
            result["halfHeadSeconds"] = time.monotonic() - start
            print(json.dumps(result))
            """
        let run = try runProgram("/usr/bin/python3", ["-c", script, String(server.port)], environment: [:])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run)")
        #expect(object["fifthClosed"] as? Bool == true, "\(object)")
        #expect(object["otherAddress"] as? String == "HTTP/1.1 200 OK", "\(object)")
        #expect(object["slowBodyClosed"] as? Bool == true, "\(object)")
        #expect((object["slowBodySeconds"] as? Double ?? 99) < 2.5, "\(object)")
        #expect(object["halfHeadClosed"] as? Bool == true, "\(object)")
        #expect((object["halfHeadSeconds"] as? Double ?? 0) >= 2.5, "\(object)")
        // The service is still there.
        #expect(try ServerProcess.get(server.url + "/health") == 200)
    }
}
