import Foundation
import Testing
@testable import Host

/// The protocol instructions: the tool list keeps every parameter's name, type and required flag
/// while cutting descriptions; the protocol text says what tool-protocol.md says; the output is
/// deterministic and stays compact for Claude-Code-sized tool sets.
@Suite struct ToolPromptRendererTests {
    static func tool(_ name: String, _ description: String, _ schema: String) -> CanonicalRequest.Tool {
        .init(name: name, description: description, parameters: try! JSONParser.parse(schema))
    }

    static let small: [CanonicalRequest.Tool] = [
        tool("Write", "Writes a file to the local filesystem. Overwrites the file if it exists.",
             #"{"type":"object","properties":{"file_path":{"type":"string","description":"The absolute path to the file to write"},"content":{"type":"string","description":"The content to write to the file"}},"required":["file_path","content"]}"#),
        tool("Bash", "Runs a shell command.",
             #"{"type":"object","properties":{"command":{"type":"string","description":"The command to execute"},"timeout":{"type":"number","description":"Optional timeout in milliseconds (max 600000)"}},"required":["command"]}"#),
    ]

    /// The complete text for the two-tool case, pinned: any change to the wording shows up here
    /// and must be deliberate.
    static let smallExpected = """
        You can call the tools listed below. Use a tool only when it helps with the request; otherwise answer in plain text, without a <tool_calls> block.

        ## Available tools

        ### Write
        Writes a file to the local filesystem. Overwrites the file if it exists.
        Parameters:
        - file_path (string, required): The absolute path to the file to write
        - content (string, required): The content to write to the file

        ### Bash
        Runs a shell command.
        Parameters:
        - command (string, required): The command to execute
        - timeout (number, optional): Optional timeout in milliseconds (max 600000)

        ## How to call tools

        To call tools, end your answer with a <tool_calls> block in exactly this format:

        <tool_calls>
        <invoke name="TOOL_NAME">
        <parameter name="PARAMETER_NAME">value</parameter>
        </invoke>
        </tool_calls>

        - Use the exact tool and parameter names listed above. Give every required parameter; leave out optional ones you do not need.
        - String values: write the text raw between the tags, exactly as it is: no quotes around it, no JSON escaping (newlines, quotes, backslashes and non-ASCII stay as they are).
        - If a string value contains </parameter>, wrap the whole value as <![CDATA[value]]>.
        - Other types (number, integer, boolean, array, object): write the value as JSON, e.g. <parameter name="limit">10</parameter> or <parameter name="labels">["bug", "ui"]</parameter>.
        - Alternatively, an <invoke> may hold one JSON object with all arguments: <invoke name="TOOL_NAME">{"PARAMETER_NAME": "value"}</invoke>.
        - Several <invoke> elements in one <tool_calls> block are parallel calls: use them for independent calls.
        - The block comes alone at the END of your answer: a short sentence may come before it, nothing comes after </tool_calls>.
        - After </tool_calls>, stop. Never invent a tool result: the results come back in the next message as <tool_result name="…" id="…">…</tool_result>. Wait for them, then continue.

        Example of a correct answer that calls Write:
        <example>
        I'll do that now.
        <tool_calls>
        <invoke name="Write">
        <parameter name="file_path">/path/to/file.txt</parameter>
        <parameter name="content">line one
        line two</parameter>
        </invoke>
        </tool_calls>
        </example>

        What not to do:
        - Do not put the <tool_calls> block in a markdown code fence (```) or in inline code: it would not be read as a call.
        - Do not answer with bare JSON: ordinary replies are plain text, and tool calls use only the <tool_calls> format.
        - Do not call a tool that is not listed above, and do not invent parameters.
        - Do not write anything after </tool_calls>, and never write a <tool_result> yourself.

        Use a tool only when it helps with the request; otherwise answer in plain text, without a <tool_calls> block.
        """

    @Test func smallCaseExactText() {
        #expect(ToolPromptRenderer.instructions(tools: Self.small, choice: .auto, parallel: true) == Self.smallExpected)
    }

    @Test func exampleIsReadBackByTheParserAsAValidCall() throws {
        // The one example must itself be a correct call: parse it the way an answer is parsed.
        let text = ToolPromptRenderer.instructions(tools: Self.small, choice: .auto, parallel: true)
        let example = try #require(text.range(of: "<example>\n")).upperBound
        let exampleEnd = try #require(text.range(of: "</example>")).lowerBound
        var detector = ToolCallDetector()
        let outputs = detector.feed(String(text[example..<exampleEnd]))
        guard case .block(let markup)? = outputs.last else { Issue.record("no block in \(outputs)"); return }
        let calls = try ToolCallParser.parse(markup)
        #expect(calls.count == 1)
        let args = try ToolArgumentChecker.arguments(for: calls[0], tool: Self.small[0])
        #expect(args == #"{"file_path":"/path/to/file.txt","content":"line one\nline two"}"#)
    }

    @Test func toolChoiceWording() {
        let auto = ToolPromptRenderer.instructions(tools: Self.small, choice: .auto, parallel: true)
        #expect(auto.contains("Use a tool only when it helps"))
        #expect(!auto.contains("MUST"))
        let required = ToolPromptRenderer.instructions(tools: Self.small, choice: .required, parallel: true)
        #expect(required.hasSuffix("You MUST call at least one tool in this answer."))
        #expect(!required.contains("only when it helps"))
        let named = ToolPromptRenderer.instructions(tools: Self.small, choice: .function("Bash"), parallel: true)
        #expect(named.hasSuffix("You MUST call the tool Bash in this answer."))
        #expect(named.hasPrefix("You can call the tools listed below. You MUST call the tool Bash in this answer."))
        #expect(ToolPromptRenderer.instructions(tools: Self.small, choice: .none, parallel: true) == "")
        #expect(ToolPromptRenderer.instructions(tools: [], choice: .auto, parallel: true) == "")
    }

    @Test func parallelFlag() {
        let one = ToolPromptRenderer.instructions(tools: Self.small, choice: .auto, parallel: false)
        #expect(one.contains("Call at most one tool per answer"))
        #expect(!one.contains("parallel calls"))
        let many = ToolPromptRenderer.instructions(tools: Self.small, choice: .auto, parallel: true)
        #expect(many.contains("Several <invoke> elements in one <tool_calls> block are parallel calls"))
        #expect(!many.contains("at most one tool"))
    }

    @Test func schemaTypes() {
        let t = Self.tool("T", "Types.", #"""
            {"type":"object","$defs":{"Mode":{"type":"string","enum":["fast","safe"]}},
             "properties":{
               "a":{"type":["string","null"]},
               "b":{"anyOf":[{"type":"integer"},{"type":"array","items":{"type":"string"}}]},
               "c":{"type":"array","items":{"type":"array","items":{"type":"number"}}},
               "d":{"enum":["x","y","z"]},
               "e":{"$ref":"#/$defs/Mode"},
               "f":{"type":"object","properties":{"g":{"type":"boolean"},"h":{"type":"object","properties":{"deep":{"type":"string"}}}},"required":["g"]},
               "i":{},
               "j":{"oneOf":[{"const":"on"},{"const":"off"}]},
               "k":{"type":"string","description":"First sentence, e.g. with an abbreviation. Second sentence is dropped."}
             },
             "required":["b","e"]}
            """#)
        let text = ToolPromptRenderer.instructions(tools: [t], choice: .auto, parallel: true)
        #expect(text.contains("- a (string|null, optional)\n"))
        #expect(text.contains("- b (integer|array<string>, required)\n"))
        #expect(text.contains("- c (array<array<number>>, optional)\n"))
        #expect(text.contains("- d (string, one of: x|y|z, optional)\n"))
        #expect(text.contains("- e (string, one of: fast|safe, required)\n"))
        #expect(text.contains("- f (object, optional)\n  fields: g (boolean, required); h (object, optional)\n"))
        #expect(!text.contains("deep"))  // one level of nesting only
        #expect(text.contains("- i (any, optional)\n"))
        #expect(text.contains("- j (string, one of: on|off, optional)\n"))
        #expect(text.contains("- k (string, optional): First sentence, e.g. with an abbreviation.\n"))
    }

    @Test func descriptionsAreCut() {
        let long = String(repeating: "word ", count: 200)
        let t = Self.tool("Long", long + ". More.", #"{"type":"object","properties":{"p":{"type":"string","description":"\#(long)"}}}"#)
        let text = ToolPromptRenderer.instructions(tools: [t], choice: .auto, parallel: true)
        let lines = text.split(separator: "\n")
        let descriptionLine = lines[lines.firstIndex(of: "### Long")! + 1]
        #expect(descriptionLine.count <= ToolSchemaSummary.toolDescriptionLimit)
        #expect(descriptionLine.hasSuffix("…"))
        let paramLine = lines.first { $0.hasPrefix("- p (") }!
        #expect(paramLine.count <= "- p (string, optional): ".count + ToolSchemaSummary.parameterDescriptionLimit)
        // Whole sentences while they fit; the first paragraph only.
        #expect(ToolSchemaSummary.toolDescription("One. Two.\n\nUsage: three.") == "One. Two.")
        #expect(ToolSchemaSummary.toolDescription("Does X.\nAlso   Y.") == "Does X. Also Y.")
        // Abbreviations and a lone "." are not sentence ends; list lines are.
        #expect(ToolSchemaSummary.shortDescription("Glob to filter files (e.g. \"*.js\") - maps to rg. More.", limit: 120) == "Glob to filter files (e.g. \"*.js\") - maps to rg.")
        #expect(ToolSchemaSummary.shortDescription("Enable mode where . matches newlines. Default: false.", limit: 120) == "Enable mode where . matches newlines.")
        let bullets = "\n- " + String(repeating: "First bullet is long ", count: 10) + "\n- Second bullet\n- " + String(repeating: "third ", count: 30)
        #expect(ToolSchemaSummary.toolDescription(bullets).hasSuffix("- Second bullet"))
    }

    @Test func toolWithoutParameters() {
        let t = Self.tool("ExitPlanMode", "Leaves plan mode.", #"{"type":"object","properties":{}}"#)
        let text = ToolPromptRenderer.instructions(tools: [t], choice: .auto, parallel: true)
        #expect(text.contains("### ExitPlanMode\nLeaves plan mode.\nParameters: none\n"))
        #expect(text.contains("<invoke name=\"ExitPlanMode\">\n</invoke>"))
    }

    @Test func deterministic() {
        let tools = ClaudeCodeTools.all
        let a = ToolPromptRenderer.instructions(tools: tools, choice: .required, parallel: true)
        let b = ToolPromptRenderer.instructions(tools: ClaudeCodeTools.all, choice: .required, parallel: true)
        #expect(a == b)
        // The same without the remembered renderings in between.
        #expect(ToolPromptRenderer.render(tools: tools, choice: .required, parallel: true) == a)
        #expect(ToolPromptRenderer.render(tools: ClaudeCodeTools.all, choice: .required, parallel: true) == a)
    }

    // MARK: Remembered renderings

    @Test func recentPromptsRenderOncePerExactInput() {
        let recent = RecentToolPrompts(capacity: 4)
        var renders = 0
        func text(_ tools: [CanonicalRequest.Tool], _ choice: CanonicalRequest.ToolChoice = .auto, parallel: Bool = true) -> String {
            recent.text(for: .init(choice: choice, parallel: parallel, tools: tools)) {
                renders += 1
                return ToolPromptRenderer.render(tools: tools, choice: choice, parallel: parallel)
            }
        }
        let first = text(Self.small)
        #expect(first == Self.smallExpected && renders == 1)
        #expect(text(Self.small) == first && renders == 1, "a repeat is remembered")
        // Anything that changes the text is a different key: choice, parallel, any byte of a tool.
        #expect(text(Self.small, .required) != first && renders == 2)
        #expect(text(Self.small, parallel: false) != first && renders == 3)
        var edited = Self.small
        edited[1].parameters = try! JSONParser.parse(#"{"type":"object","properties":{"command":{"type":"string","description":"The command to run"}},"required":["command"]}"#)
        let editedText = text(edited)
        #expect(editedText != first && editedText.contains("The command to run") && renders == 4)
        #expect(recent.count == 4)
    }

    @Test func recentPromptsForgetTheLeastRecentlyUsed() {
        let recent = RecentToolPrompts(capacity: 2)
        var renders = 0
        func text(_ name: String) -> String {
            let tools = [Self.tool(name, "Does \(name).", #"{"type":"object","properties":{}}"#)]
            return recent.text(for: .init(choice: .auto, parallel: true, tools: tools)) {
                renders += 1
                return ToolPromptRenderer.render(tools: tools, choice: .auto, parallel: true)
            }
        }
        _ = text("A"); _ = text("B")
        _ = text("A")  // A is now the most recent
        _ = text("C")  // B goes
        #expect(renders == 3 && recent.count == 2)
        _ = text("A")
        #expect(renders == 3, "A was kept")
        #expect(text("B").contains("### B") && renders == 4, "B was forgotten and renders again")
    }

    // MARK: Claude-Code-sized tool set

    /// Every parameter of the fixture, with the attributes the prompt must show for it.
    static let expectedParameters: [String: [String]] = [
        "Bash": ["- command (string, required)", "- timeout (number, optional)", "- description (string, optional)", "- run_in_background (boolean, optional)"],
        "Edit": ["- file_path (string, required)", "- old_string (string, required)", "- new_string (string, required)", "- replace_all (boolean, optional)"],
        "Read": ["- file_path (string, required)", "- offset (number, optional)", "- limit (number, optional)"],
        "Write": ["- file_path (string, required)", "- content (string, required)"],
        "Glob": ["- pattern (string, required)", "- path (string, optional)"],
        "Grep": [
            "- pattern (string, required)", "- path (string, optional)", "- glob (string, optional)",
            "- output_mode (string, one of: content|files_with_matches|count, optional)", "- -B (number, optional)", "- -A (number, optional)",
            "- -C (number, optional)", "- -n (boolean, optional)", "- -i (boolean, optional)", "- type (string, optional)",
            "- head_limit (number, optional)", "- multiline (boolean, optional)",
        ],
        "TodoWrite": [
            "- todos (array<object>, required)",
            "  each item: content (string, required); status (string, one of: pending|in_progress|completed, required); activeForm (string, required)",
        ],
        "WebFetch": ["- url (string, required)", "- prompt (string, required)"],
        "Task": ["- description (string, required)", "- prompt (string, required)", "- subagent_type (string, required)"],
        "NotebookEdit": [
            "- notebook_path (string, required)", "- cell_id (string, optional)", "- new_source (string, required)",
            "- cell_type (string, one of: code|markdown, optional)", "- edit_mode (string, one of: replace|insert|delete, optional)",
        ],
        "MultiEdit": [
            "- file_path (string, required)", "- edits (array<object>, required)",
            "  each item: old_string (string, required); new_string (string, required); replace_all (boolean, optional)",
        ],
        "mcp__github__create_issue": [
            "- owner (string, required)", "- repo (string, required)", "- title (string, required)", "- body (string|null, optional)",
            "- assignees (array<string>, optional)", "- labels (array<string>, optional)", "- milestone (number|null, optional)",
            "- options (object, optional)", "  fields: draft (boolean, optional); template (string, one of: bug|feature, optional); notify (array<string>, optional)",
        ],
        "WebSearch": ["- query (string, required)", "- allowed_domains (array<string>, optional)", "- blocked_domains (array<string>, optional)"],
        "BashOutput": ["- bash_id (string, required)", "- filter (string, optional)"],
        "KillShell": ["- shell_id (string, required)"],
    ]

    @Test func claudeCodeToolSetKeepsEveryParameterAndStaysCompact() throws {
        let tools = ClaudeCodeTools.all
        #expect(tools.count == 15)
        #expect(Set(tools.map(\.name)) == Set(Self.expectedParameters.keys))
        let text = ToolPromptRenderer.instructions(tools: tools, choice: .auto, parallel: true)
        // Each tool's own section: from its heading to the next one.
        let sections = text.components(separatedBy: "\n### ").dropFirst()
        for tool in tools {
            let section = try #require(sections.first { $0.hasPrefix(tool.name + "\n") }, "no section for \(tool.name)")
            for expected in Self.expectedParameters[tool.name]! {
                #expect(section.contains("\n" + expected), "\(tool.name): missing \(expected)")
            }
            // Nothing extra either: every top-level parameter line is an expected one.
            let parameterLines = section.split(separator: "\n").filter { $0.hasPrefix("- ") && $0.contains(" (") }
            let schemaCount = tool.parameters["properties"]?.objectValue?.entries.count ?? 0
            #expect(parameterLines.count >= schemaCount, "\(tool.name)")
        }
        let words = text.split(whereSeparator: \.isWhitespace).count
        let rawWords = tools.map { $0.description + $0.parameters.serialized }.joined(separator: " ").split(whereSeparator: \.isWhitespace).count
        #expect(words < 4_000, "instructions are \(words) words")
        // The fixture is realistic only if compacting actually had something to cut.
        #expect(rawWords > 2 * words, "raw \(rawWords) vs \(words)")
        #expect(text.utf8.count < 30_000)
    }
}

/// Fifteen tools shaped like the ones Claude Code sends: multi-paragraph descriptions, zod-style
/// schemas (`$schema`, `additionalProperties: false`), nested arrays of objects, enums, and an MCP
/// tool with nullable and nested properties.
enum ClaudeCodeTools {
    static let all: [CanonicalRequest.Tool] = {
        let list = try! JSONParser.parse(json).arrayValue!
        return list.map { .init(name: $0["name"]!.stringValue!, description: $0["description"]!.stringValue!, parameters: $0["input_schema"]!) }
    }()

    static let usage = """
        Usage notes:\\n  - The tool runs in the current working directory; paths should be absolute, not relative.\\n  - Prefer the specialised tools (Read, Edit, Glob, Grep) over shell equivalents such as cat, sed, find and grep: they are faster and their output is easier for the user to review.\\n  - When several independent operations are needed, issue them in parallel in a single message rather than one after another.\\n  - Never guess at file contents: read a file before editing it, and check the result after.\\n  - Output longer than 30000 characters is truncated before it is returned to you.\\n  - If the user has asked you not to use this tool, respect that and explain what you would have done instead.\\n\\nExamples:\\n<example>\\nuser: find where the server starts\\nassistant: I will search for the entry point first.\\n</example>\\n<example>\\nuser: run the tests\\nassistant: I will run the test suite and report failures with their file and line.\\n</example>
        """

    static let json = """
    [
     {"name":"Task","description":"Launch a new agent to handle complex, multi-step tasks autonomously. \\n\\nThe Task tool launches specialized agents (subprocesses) that autonomously handle complex tasks. Each agent type has specific capabilities and tools available to it.\\n\\nAvailable agent types and the tools they have access to:\\n- general-purpose: General-purpose agent for researching complex questions, searching for code, and executing multi-step tasks. (Tools: *)\\n- statusline-setup: Use this agent to configure the user's Claude Code status line setting. (Tools: Read, Edit)\\n\\nWhen NOT to use the Agent tool:\\n- If you want to read a specific file path, use the Read or Glob tool instead.\\n- If you are searching for a specific class definition, use the Glob tool instead.\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"description":{"type":"string","description":"A short (3-5 word) description of the task"},"prompt":{"type":"string","description":"The task for the agent to perform"},"subagent_type":{"type":"string","description":"The type of specialized agent to use for this task"}},"required":["description","prompt","subagent_type"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"Bash","description":"Executes a given bash command in a persistent shell session with optional timeout, ensuring proper handling and security measures. Before executing the command, please follow these steps: first verify the parent directory exists, then quote paths that contain spaces, then run the command and capture its output.\\n\\nIMPORTANT: This tool is for terminal operations like git, npm, docker, etc. DO NOT use it for file operations (reading, writing, editing, searching, finding files) - use the specialized tools for this instead.\\n\\n\(usage)\\n\\nCommitting changes with git:\\n1. Run git status and git diff in parallel.\\n2. Draft a commit message that focuses on the why.\\n3. Never update the git config, never push unless asked, never use -i flags.\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"command":{"type":"string","description":"The command to execute"},"timeout":{"type":"number","description":"Optional timeout in milliseconds (max 600000)"},"description":{"type":"string","description":"Clear, concise description of what this command does in 5-10 words, in active voice. Examples:\\nInput: ls\\nOutput: List files in current directory\\n\\nInput: git status\\nOutput: Show working tree status"},"run_in_background":{"type":"boolean","description":"Set to true to run this command in the background. Use BashOutput to read the output later."}},"required":["command"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"Glob","description":"- Fast file pattern matching tool that works with any codebase size\\n- Supports glob patterns like \\"**/*.js\\" or \\"src/**/*.ts\\"\\n- Returns matching file paths sorted by modification time\\n- Use this tool when you need to find files by name patterns\\n- When you are doing an open ended search that may require multiple rounds of globbing and grepping, use the Agent tool instead\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"pattern":{"type":"string","description":"The glob pattern to match files against"},"path":{"type":"string","description":"The directory to search in. If not specified, the current working directory will be used. IMPORTANT: Omit this field to use the default directory. DO NOT enter \\"undefined\\" or \\"null\\" - simply omit it for the default behavior. Must be a valid directory path if provided."}},"required":["pattern"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"Grep","description":"A powerful search tool built on ripgrep\\n\\n  Usage:\\n  - ALWAYS use Grep for search tasks. NEVER invoke `grep` or `rg` as a Bash command. The Grep tool has been optimized for correct permissions and access.\\n  - Supports full regex syntax (e.g., \\"log.*Error\\", \\"function\\\\s+\\\\w+\\")\\n  - Filter files with glob parameter (e.g., \\"*.js\\", \\"**/*.tsx\\") or type parameter (e.g., \\"js\\", \\"py\\", \\"rust\\")\\n  - Output modes: \\"content\\" shows matching lines, \\"files_with_matches\\" shows only file paths (default), \\"count\\" shows match counts\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"pattern":{"type":"string","description":"The regular expression pattern to search for in file contents"},"path":{"type":"string","description":"File or directory to search in (rg PATH). Defaults to current working directory."},"glob":{"type":"string","description":"Glob pattern to filter files (e.g. \\"*.js\\", \\"*.{ts,tsx}\\") - maps to rg --glob"},"output_mode":{"type":"string","enum":["content","files_with_matches","count"],"description":"Output mode: \\"content\\" shows matching lines (supports -A/-B/-C context, -n line numbers, head_limit), \\"files_with_matches\\" shows file paths (supports head_limit), \\"count\\" shows match counts (supports head_limit). Defaults to \\"files_with_matches\\"."},"-B":{"type":"number","description":"Number of lines to show before each match (rg -B). Requires output_mode: \\"content\\", ignored otherwise."},"-A":{"type":"number","description":"Number of lines to show after each match (rg -A). Requires output_mode: \\"content\\", ignored otherwise."},"-C":{"type":"number","description":"Number of lines to show before and after each match (rg -C). Requires output_mode: \\"content\\", ignored otherwise."},"-n":{"type":"boolean","description":"Show line numbers in output (rg -n). Requires output_mode: \\"content\\", ignored otherwise."},"-i":{"type":"boolean","description":"Case insensitive search (rg -i)"},"type":{"type":"string","description":"File type to search (rg --type). Common types: js, py, rust, go, java, etc. More efficient than include for standard file types."},"head_limit":{"type":"number","description":"Limit output to first N lines/entries, equivalent to \\"| head -N\\". Works across all output modes."},"multiline":{"type":"boolean","description":"Enable multiline mode where . matches newlines and patterns can span lines (rg -U --multiline-dotall). Default: false."}},"required":["pattern"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"Read","description":"Reads a file from the local filesystem. You can access any file directly by using this tool.\\nAssume this tool is able to read all files on the machine. If the User provides a path to a file assume that path is valid. It is okay to read a file that does not exist; an error will be returned.\\n\\nUsage:\\n- The file_path parameter must be an absolute path, not a relative path\\n- By default, it reads up to 2000 lines starting from the beginning of the file\\n- You can optionally specify a line offset and limit (especially handy for long files)\\n- Any lines longer than 2000 characters will be truncated\\n- Results are returned using cat -n format, with line numbers starting at 1\\n- This tool can read images (eg PNG, JPG, etc). When reading an image file the contents are presented visually.\\n- This tool can read PDF files (.pdf) and Jupyter notebooks (.ipynb files).\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"file_path":{"type":"string","description":"The absolute path to the file to read"},"offset":{"type":"number","description":"The line number to start reading from. Only provide if the file is too large to read at once"},"limit":{"type":"number","description":"The number of lines to read. Only provide if the file is too large to read at once."}},"required":["file_path"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"Edit","description":"Performs exact string replacements in files. \\n\\nUsage:\\n- You must use your `Read` tool at least once in the conversation before editing. This tool will error if you attempt an edit without reading the file. \\n- When editing text from Read tool output, ensure you preserve the exact indentation (tabs/spaces) as it appears AFTER the line number prefix.\\n- ALWAYS prefer editing existing files in the codebase. NEVER write new files unless explicitly required.\\n- The edit will FAIL if `old_string` is not unique in the file. Either provide a larger string with more surrounding context to make it unique or use `replace_all` to change every instance of `old_string`. \\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"file_path":{"type":"string","description":"The absolute path to the file to modify"},"old_string":{"type":"string","description":"The text to replace"},"new_string":{"type":"string","description":"The text to replace it with (must be different from old_string)"},"replace_all":{"type":"boolean","default":false,"description":"Replace all occurences of old_string (default false)"}},"required":["file_path","old_string","new_string"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"MultiEdit","description":"This is a tool for making multiple edits to a single file in one operation. It is built on top of the Edit tool and allows you to perform multiple find-and-replace operations efficiently. Prefer this tool over the Edit tool when you need to make multiple edits to the same file.\\n\\nBefore using this tool:\\n1. Use the Read tool to understand the file's contents and context\\n2. Verify the directory path is correct\\n\\nIMPORTANT:\\n- All edits are applied in sequence, in the order they are provided\\n- Each edit operates on the result of the previous edit\\n- All edits must be valid for the operation to succeed - if any edit fails, none will be applied\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"file_path":{"type":"string","description":"The absolute path to the file to modify"},"edits":{"type":"array","items":{"type":"object","properties":{"old_string":{"type":"string","description":"The text to replace"},"new_string":{"type":"string","description":"The text to replace it with"},"replace_all":{"type":"boolean","default":false,"description":"Replace all occurences of old_string (default false)."}},"required":["old_string","new_string"],"additionalProperties":false},"minItems":1,"description":"Array of edit operations to perform sequentially on the file"}},"required":["file_path","edits"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"Write","description":"Writes a file to the local filesystem.\\n\\nUsage:\\n- This tool will overwrite the existing file if there is one at the provided path.\\n- If this is an existing file, you MUST use the Read tool first to read the file's contents. This tool will fail if you did not read the file first.\\n- ALWAYS prefer editing existing files in the codebase. NEVER write new files unless explicitly required.\\n- NEVER proactively create documentation files (*.md) or README files.\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"file_path":{"type":"string","description":"The absolute path to the file to write (must be absolute, not relative)"},"content":{"type":"string","description":"The content to write to the file"}},"required":["file_path","content"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"NotebookEdit","description":"Completely replaces the contents of a specific cell in a Jupyter notebook (.ipynb file) with new source. Jupyter notebooks are interactive documents that combine code, text, and visualizations, commonly used for data analysis and scientific computing. The notebook_path parameter must be an absolute path, not a relative path. The cell_number is 0-indexed. Use edit_mode=insert to add a new cell at the index specified by cell_number. Use edit_mode=delete to delete the cell at the index specified by cell_number.\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"notebook_path":{"type":"string","description":"The absolute path to the Jupyter notebook file to edit (must be absolute, not relative)"},"cell_id":{"type":"string","description":"The ID of the cell to edit. When inserting a new cell, the new cell will be inserted after the cell with this ID, or at the beginning if not specified."},"new_source":{"type":"string","description":"The new source for the cell"},"cell_type":{"type":"string","enum":["code","markdown"],"description":"The type of the cell (code or markdown). If not specified, it defaults to the current cell type. If using edit_mode=insert, this is required."},"edit_mode":{"type":"string","enum":["replace","insert","delete"],"description":"The type of edit to make (replace, insert, delete). Defaults to replace."}},"required":["notebook_path","new_source"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"WebFetch","description":"\\n- Fetches content from a specified URL and processes it using an AI model\\n- Takes a URL and a prompt as input\\n- Fetches the URL content, converts HTML to markdown\\n- Processes the content with the prompt using a small, fast model\\n- Returns the model's response about the content\\n- Use this tool when you need to retrieve and analyze web content\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"url":{"type":"string","format":"uri","description":"The URL to fetch content from"},"prompt":{"type":"string","description":"The prompt to run on the fetched content"}},"required":["url","prompt"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"TodoWrite","description":"Use this tool to create and manage a structured task list for your current coding session. This helps you track progress, organize complex tasks, and demonstrate thoroughness to the user.\\nIt also helps the user understand the progress of the task and overall progress of their requests.\\n\\n## When to Use This Tool\\nUse this tool proactively in these scenarios:\\n\\n1. Complex multi-step tasks - When a task requires 3 or more distinct steps or actions\\n2. Non-trivial and complex tasks - Tasks that require careful planning or multiple operations\\n3. User explicitly requests todo list - When the user directly asks you to use the todo list\\n\\n## Task States and Management\\n\\n1. **Task States**: pending, in_progress (limit to ONE task at a time), completed.\\n\\n\(usage)\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"todos":{"type":"array","items":{"type":"object","properties":{"content":{"type":"string","minLength":1},"status":{"type":"string","enum":["pending","in_progress","completed"]},"activeForm":{"type":"string","minLength":1}},"required":["content","status","activeForm"],"additionalProperties":false},"description":"The updated todo list"}},"required":["todos"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"WebSearch","description":"\\n- Allows Claude to search the web and use the results to inform responses\\n- Provides up-to-date information for current events and recent data\\n- Returns search result information formatted as search result blocks\\n- Use this tool for accessing information beyond Claude's knowledge cutoff\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"query":{"type":"string","minLength":2,"description":"The search query to use"},"allowed_domains":{"type":"array","items":{"type":"string"},"description":"Only include search results from these domains"},"blocked_domains":{"type":"array","items":{"type":"string"},"description":"Never include search results from these domains"}},"required":["query"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"BashOutput","description":"\\n- Retrieves output from a running or completed background bash shell\\n- Takes a shell_id parameter identifying the shell\\n- Always returns only new output since the last check\\n- Returns stdout and stderr output along with shell status\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"bash_id":{"type":"string","description":"The ID of the background shell to retrieve output from"},"filter":{"type":"string","description":"Optional regular expression to filter the output lines. Only lines matching this regex will be included in the result. Any lines that do not match will no longer be available to read."}},"required":["bash_id"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"KillShell","description":"\\n- Kills a running background bash shell by its ID\\n- Takes a shell_id parameter identifying the shell to kill\\n- Returns a success or failure status \\n- Use this tool when you need to terminate a long-running shell",
      "input_schema":{"type":"object","properties":{"shell_id":{"type":"string","description":"The ID of the background shell to kill"}},"required":["shell_id"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}},
     {"name":"mcp__github__create_issue","description":"Create a new issue in a GitHub repository. The issue is created as the authenticated user; labels, assignees and a milestone may be set at creation time. Requires push access to set labels, assignees or a milestone; otherwise they are silently dropped by GitHub.\\n\\n\(usage)",
      "input_schema":{"type":"object","properties":{"owner":{"type":"string","description":"Repository owner (user or organization)"},"repo":{"type":"string","description":"Repository name"},"title":{"type":"string","description":"Issue title"},"body":{"type":["string","null"],"description":"Issue body content, in GitHub-flavoured markdown"},"assignees":{"type":"array","items":{"type":"string"},"description":"Usernames to assign to this issue"},"labels":{"type":"array","items":{"type":"string"},"description":"Labels to apply to this issue"},"milestone":{"anyOf":[{"type":"number"},{"type":"null"}],"description":"Milestone number to associate with this issue"},"options":{"type":"object","properties":{"draft":{"type":"boolean"},"template":{"$ref":"#/definitions/Template"},"notify":{"type":"array","items":{"type":"string"}}},"description":"Extra creation options"}},"required":["owner","repo","title"],"definitions":{"Template":{"type":"string","enum":["bug","feature"]}},"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}}
    ]
    """
}
