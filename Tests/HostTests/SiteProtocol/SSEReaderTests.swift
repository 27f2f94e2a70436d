import Testing
@testable import SiteProtocol

extension SiteProtocolTests {
    @Suite struct SSEReaderTests {
        /// Feeds the pieces and finishes; the reader's whole output.
        func read(_ pieces: [[UInt8]], maxLineBytes: Int = 1 << 20) throws -> [SSEEvent] {
            var reader = SSEReader(maxLineBytes: maxLineBytes)
            var events: [SSEEvent] = []
            for piece in pieces { events += try reader.feed(piece) }
            return events + reader.finish()
        }

        func read(_ text: String) throws -> [SSEEvent] { try read([Array(text.utf8)]) }

        @Test func dispatchesAtBlankLinesOnly() throws {
            var reader = SSEReader()
            #expect(try reader.feed(Array("data: a\n".utf8)).isEmpty, "no event before its blank line")
            #expect(try reader.feed(Array("\n".utf8)) == [SSEEvent(data: "a")])
        }

        @Test func lineEndsLFCRLFAndLoneCR() throws {
            let expected = [SSEEvent(data: "1"), SSEEvent(data: "2"), SSEEvent(data: "3")]
            #expect(try read("data: 1\n\ndata: 2\n\ndata: 3\n\n") == expected)
            #expect(try read("data: 1\r\n\r\ndata: 2\r\n\r\ndata: 3\r\n\r\n") == expected)
            #expect(try read("data: 1\r\rdata: 2\r\rdata: 3\r\r") == expected)
            #expect(try read("data: 1\r\n\ndata: 2\r\rdata: 3\n\r\n") == expected, "mixed line ends")
        }

        @Test func crAtTheEndOfAPieceAndLFAtTheStartOfTheNextAreOneLineEnd() throws {
            // If the LF were a second line end, it would be a blank line and dispatch "a" early,
            // and "b" would become a separate event.
            let events = try read([Array("data: a\r".utf8), Array("\ndata: b\r".utf8), Array("\n\r".utf8), Array("\n".utf8)])
            #expect(events == [SSEEvent(data: "a\nb")])
        }

        @Test func loneCRAtTheEndOfAPieceFollowedByText() throws {
            let events = try read([Array("data: a\r".utf8), Array("data: b\r\r".utf8)])
            #expect(events == [SSEEvent(data: "a\nb")])
        }

        @Test func commentsAreSkippedButCounted() throws {
            var reader = SSEReader()
            let events = try reader.feed(Array(": keep-alive\n:\n: another\ndata: x\n\n".utf8))
            #expect(events == [SSEEvent(data: "x")])
            #expect(reader.commentsSeen == 3)
        }

        @Test func eventAndIDFields() throws {
            let events = try read("event: delta\nid: 7\ndata: a\n\ndata: b\n\n")
            #expect(events == [SSEEvent(event: "delta", data: "a", id: "7"), SSEEvent(event: nil, data: "b", id: "7")], "id persists; event type does not")
        }

        @Test func multiLineDataIsJoinedWithNewlines() throws {
            #expect(try read("data: {\"a\":\ndata: 1}\n\n") == [SSEEvent(data: "{\"a\":\n1}")])
            #expect(try read("data:x\ndata:  y\n\n") == [SSEEvent(data: "x\n y")], "only one leading space is dropped")
        }

        @Test func fieldLineWithoutColon() throws {
            // "data" alone is a data field with an empty value; an unknown bare name is ignored.
            #expect(try read("data\ndata: b\nfoo\n\n") == [SSEEvent(data: "\nb")])
            #expect(try read("data\n\n") == [SSEEvent(data: "")], "an empty data line is still data")
        }

        @Test func eventsWithoutDataAreNotDispatched() throws {
            #expect(try read("event: ping\n\nid: 1\n\n: c\n\n").isEmpty)
        }

        @Test func leadingBOMIsDropped() throws {
            #expect(try read([[0xEF, 0xBB, 0xBF] + Array("data: a\n\n".utf8)]) == [SSEEvent(data: "a")])
            // Split inside the BOM.
            #expect(try read([[0xEF], [0xBB], [0xBF, UInt8(ascii: "d")], Array("ata: a\n\n".utf8)]) == [SSEEvent(data: "a")])
            // A BOM later in the stream is not special (it makes an unknown field).
            #expect(try read([Array("data: a\n".utf8), [0xEF, 0xBB, 0xBF] + Array("data: b\n\n".utf8)]) == [SSEEvent(data: "a")])
        }

        @Test func utf8SequencesSplitAcrossPieces() throws {
            let bytes = Array("data: 你好 🚀\n\n".utf8)
            for cut in 0...bytes.count {
                let events = try read([Array(bytes[..<cut]), Array(bytes[cut...])])
                #expect(events == [SSEEvent(data: "你好 🚀")], "cut at \(cut)")
            }
        }

        @Test func everyByteSeparately() throws {
            let text = "\u{FEFF}: hi\r\nevent: e\r\ndata: 1\r\ndata: 2\r\n\r\ndata: 3\r\r"
            let pieces = Array(text.utf8).map { [$0] }
            #expect(try read(pieces) == [SSEEvent(event: "e", data: "1\n2"), SSEEvent(data: "3")])
        }

        @Test func finishFlushesAFinalEventWithoutBlankLine() throws {
            var reader = SSEReader()
            #expect(try reader.feed(Array("data: a\n\ndata: b".utf8)) == [SSEEvent(data: "a")])
            #expect(reader.finish() == [SSEEvent(data: "b")], "last line without line end, event without blank line")
            var other = SSEReader()
            _ = try other.feed(Array("data: c\n".utf8))
            #expect(other.finish() == [SSEEvent(data: "c")])
        }

        @Test func overlongLineThrowsAndStaysFailed() throws {
            var reader = SSEReader(maxLineBytes: 16)
            #expect(try reader.feed(Array("data: 0123456789\n\n".utf8)) == [SSEEvent(data: "0123456789")], "16 bytes fit")
            #expect(throws: SSEError.lineTooLong(16)) { try reader.feed(Array("data: 0123456789A".utf8)) }
            #expect(throws: SSEError.lineTooLong(16)) { try reader.feed(Array("\n\n".utf8)) }
            #expect(reader.finish().isEmpty)
        }

        @Test func overlongLineAcrossManySmallPieces() {
            var reader = SSEReader(maxLineBytes: 1000)
            var thrown: SSEError?
            for _ in 0..<2000 {
                do { _ = try reader.feed(Array("xxxxxxxx".utf8)) } catch {
                    thrown = error
                    break
                }
            }
            #expect(thrown == .lineTooLong(1000), "a line without end never grows beyond the limit")
        }

        @Test func manyDataLinesAreBoundedPerEvent() {
            var reader = SSEReader(maxLineBytes: 100, maxEventBytes: 1000)
            var thrown: SSEError?
            for _ in 0..<200 {
                do { _ = try reader.feed(Array("data: 0123456789\n".utf8)) } catch {
                    thrown = error
                    break
                }
            }
            #expect(thrown == .eventTooLarge(1000))
        }

        @Test func rawBufferOverloadMatchesArrayOverload() throws {
            let bytes = Array("data: a\n\ndata: b\n\n".utf8)
            var reader = SSEReader()
            let events = try bytes.withUnsafeBytes { raw in try reader.feed(raw) }
            #expect(events == [SSEEvent(data: "a"), SSEEvent(data: "b")])
        }

        @Test func invalidUTF8BecomesReplacementCharacters() throws {
            #expect(try read([Array("data: a".utf8) + [0xFF] + Array("b\n\n".utf8)]) == [SSEEvent(data: "a\u{FFFD}b")])
        }
    }
}
