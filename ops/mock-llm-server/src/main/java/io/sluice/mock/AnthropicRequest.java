package io.sluice.mock;

import static com.fasterxml.jackson.core.JsonToken.END_ARRAY;
import static com.fasterxml.jackson.core.JsonToken.FIELD_NAME;
import static com.fasterxml.jackson.core.JsonToken.START_ARRAY;
import static com.fasterxml.jackson.core.JsonToken.START_OBJECT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NULL;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_INT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_STRING;
import static com.fasterxml.jackson.core.JsonToken.VALUE_TRUE;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the mock needs from an Anthropic Messages request ({@code /v1/messages} and its
 * {@code count_tokens}), read in one streaming pass like {@link MockRequest}: the model, streaming,
 * {@code max_tokens}, the counts that the request summary reports and the token estimate rests on,
 * the tools with the input each would be called with, {@code tool_choice}, and the {@code "mock"}
 * knobs (kept in {@link #knobs}, parsed by the same code as the OpenAI mode's).
 */
final class AnthropicRequest {
  /** Tokens an image adds to the input estimate, so that a forwarded image is visible in the usage. */
  static final int IMAGE_TOKENS = 100;

  /** One entry of {@code tools}: its name and the JSON pieces of the input the mock calls it with. */
  record Tool(String name, List<String> inputPieces) {}

  final MockRequest knobs;
  String model;
  boolean stream;
  /** {@code max_tokens}, -1 when absent. */
  long maxTokens = -1;
  /** Number of messages, -1 when {@code messages} is absent. */
  int messages = -1;
  boolean system;
  int images;
  int toolUses;
  int toolResults;
  /** Total UTF-8 length of system text, message text, tool results' text and tool names and descriptions. */
  long textBytes;
  final List<Tool> tools = new ArrayList<>(2);
  /** {@code tool_choice.type} ({@code auto}, {@code any}, {@code tool}, {@code none}), null when absent. */
  String toolChoice;
  String toolChoiceName;

  private AnthropicRequest(MockRequest defaults) {
    knobs = new MockRequest();
    if (defaults != null) {
      knobs.knobsFrom(defaults);
    }
  }

  /**
   * The input tokens the mock reports for this request and answers {@code count_tokens} with:
   * {@code max(1, textBytes / 4) + 3 per message + 100 per image}.
   */
  int inputTokens() {
    long n = Math.max(1, textBytes / 4) + 3L * Math.max(messages, 0) + (long) IMAGE_TOKENS * images;
    return (int) Math.min(Integer.MAX_VALUE, n);
  }

  /** The tool that the answer calls, or null for a text answer; throws when tool_choice names no tool. */
  Tool chosenTool() throws MockRequest.Invalid {
    if ("tool".equals(toolChoice)) {
      for (Tool t : tools) {
        if (t.name().equals(toolChoiceName)) {
          return t;
        }
      }
      throw new MockRequest.Invalid("tool_choice: tool '" + toolChoiceName + "' is not among 'tools'.", null, null);
    }
    if (tools.isEmpty() || "none".equals(toolChoice)) {
      return null;
    }
    return "any".equals(toolChoice) || knobs.toolUse ? tools.get(0) : null;
  }

  /** A tool call that the request forced (tool_choice any or tool) comes without a text block before it. */
  boolean toolForced() {
    return "any".equals(toolChoice) || "tool".equals(toolChoice);
  }

  /** {@code messages=2,system=1,images=0,tool_uses=0,tool_results=0,tools=1,tool_choice=auto,max_tokens=64,stream=0}. */
  String summary() {
    return "messages=" + Math.max(messages, 0) + ",system=" + (system ? 1 : 0) + ",images=" + images
        + ",tool_uses=" + toolUses + ",tool_results=" + toolResults + ",tools=" + tools.size()
        + ",tool_choice=" + (toolChoice == null ? "none_given" : toolChoice) + ",max_tokens=" + maxTokens
        + ",stream=" + (stream ? 1 : 0);
  }

  static AnthropicRequest parse(JsonFactory factory, byte[] body, MockRequest defaults)
      throws IOException, MockRequest.Invalid {
    AnthropicRequest r = new AnthropicRequest(defaults);
    try (JsonParser p = factory.createParser(body)) {
      if (p.nextToken() != START_OBJECT) {
        throw new MockRequest.Invalid("The request body must be a JSON object.", null, null);
      }
      while (p.nextToken() == FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        switch (name) {
          case "model" -> {
            if (t != VALUE_STRING && t != VALUE_NULL) {
              throw new MockRequest.Invalid("model: Input should be a valid string", null, null);
            }
            r.model = t == VALUE_STRING ? p.getText() : null;
          }
          case "stream" -> r.stream = t == VALUE_TRUE;
          case "max_tokens" -> {
            if (t != VALUE_NUMBER_INT || p.getLongValue() < 1) {
              throw new MockRequest.Invalid("max_tokens: Input should be a valid integer greater than or equal to 1",
                  null, null);
            }
            r.maxTokens = p.getLongValue();
          }
          case "system" -> {
            r.system = t != VALUE_NULL;
            r.scanContent(p, t);
          }
          case "messages" -> r.scanMessages(p, t);
          case "tools" -> r.scanTools(p, t);
          case "tool_choice" -> r.scanToolChoice(p, t);
          case "mock" -> r.knobs.scanMock(p, t);
          default -> p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        throw new MockRequest.Invalid("Unexpected content after the JSON object.", null, null);
      }
    }
    if (r.toolChoice != null && r.tools.isEmpty() && !"none".equals(r.toolChoice)) {
      throw new MockRequest.Invalid("tool_choice may only be specified while providing tools.", null, null);
    }
    return r;
  }

  private void scanMessages(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t != START_ARRAY) {
      throw new MockRequest.Invalid("messages: Input should be a valid list", null, null);
    }
    messages = 0;
    while ((t = p.nextToken()) != END_ARRAY) {
      if (t != START_OBJECT) {
        throw new MockRequest.Invalid("messages." + messages + ": Input should be a valid dictionary", null, null);
      }
      messages++;
      while (p.nextToken() == FIELD_NAME) {
        boolean content = "content".equals(p.currentName());
        t = p.nextToken();
        if (content) {
          scanContent(p, t);
        } else {
          p.skipChildren();
        }
      }
    }
  }

  /**
   * Content (of a message, of {@code system} or of a {@code tool_result}) is a string or an array of
   * blocks; text counts wherever it is, and images, tool_use and tool_result blocks are counted.
   */
  private void scanContent(JsonParser p, JsonToken t) throws IOException {
    if (t == VALUE_STRING) {
      textBytes += MockRequest.utf8Length(p);
      return;
    }
    if (t != START_ARRAY) {
      p.skipChildren();
      return;
    }
    while ((t = p.nextToken()) != END_ARRAY) {
      if (t != START_OBJECT) {
        p.skipChildren();
        continue;
      }
      while (p.nextToken() == FIELD_NAME) {
        String field = p.currentName();
        t = p.nextToken();
        if (field.equals("type") && t == VALUE_STRING) {
          switch (p.getText()) {
            case "image" -> images++;
            case "tool_use" -> toolUses++;
            case "tool_result" -> toolResults++;
            default -> { }
          }
        } else if (field.equals("text") && t == VALUE_STRING) {
          textBytes += MockRequest.utf8Length(p);
        } else if (field.equals("content")) {
          scanContent(p, t); // a tool_result's content
        } else {
          p.skipChildren();
        }
      }
    }
  }

  private void scanTools(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t != START_ARRAY) {
      throw new MockRequest.Invalid("tools: Input should be a valid list", null, null);
    }
    while ((t = p.nextToken()) != END_ARRAY) {
      if (t != START_OBJECT) {
        throw new MockRequest.Invalid("tools." + tools.size() + ": Input should be a valid dictionary", null, null);
      }
      String name = null;
      List<String> pieces = List.of("", "{}");
      while (p.nextToken() == FIELD_NAME) {
        String field = p.currentName();
        t = p.nextToken();
        if (field.equals("name") && t == VALUE_STRING) {
          name = p.getText();
          textBytes += MockRequest.utf8Length(p);
        } else if (field.equals("description") && t == VALUE_STRING) {
          textBytes += MockRequest.utf8Length(p);
        } else if (field.equals("input_schema") && t == START_OBJECT) {
          pieces = inputPieces(p);
        } else {
          p.skipChildren();
        }
      }
      if (name == null) {
        throw new MockRequest.Invalid("tools." + tools.size() + ".name: Field required", null, null);
      }
      tools.add(new Tool(name, pieces));
    }
  }

  /**
   * The input the mock calls a tool with, as the JSON pieces a stream sends one per delta: an empty
   * piece first (as the real API sends), then one per top-level property of the schema, each valued by
   * its type: the first {@code enum} value, else "mock", 1, true, [], {} or null.
   */
  static List<String> inputPieces(JsonParser p) throws IOException {
    List<String> pieces = new ArrayList<>(4);
    pieces.add("");
    while (p.nextToken() == FIELD_NAME) {
      boolean properties = "properties".equals(p.currentName());
      JsonToken t = p.nextToken();
      if (!properties || t != START_OBJECT) {
        p.skipChildren();
        continue;
      }
      while (p.nextToken() == FIELD_NAME) {
        StringBuilder piece = new StringBuilder(pieces.size() == 1 ? "{" : ",");
        Json.str(piece, p.currentName()).append(':').append(exampleValue(p, p.nextToken()));
        pieces.add(piece.toString());
      }
    }
    if (pieces.size() == 1) {
      pieces.add("{}");
    } else {
      int last = pieces.size() - 1;
      pieces.set(last, pieces.get(last) + "}");
    }
    return pieces;
  }

  private static String exampleValue(JsonParser p, JsonToken t) throws IOException {
    if (t != START_OBJECT) {
      p.skipChildren();
      return "null";
    }
    String type = null;
    String firstEnum = null;
    while (p.nextToken() == FIELD_NAME) {
      String field = p.currentName();
      t = p.nextToken();
      if (field.equals("type") && t == VALUE_STRING) {
        type = p.getText();
      } else if (field.equals("enum") && t == START_ARRAY) {
        while ((t = p.nextToken()) != END_ARRAY) {
          if (firstEnum == null && t.isScalarValue()) {
            firstEnum = t == VALUE_STRING ? Json.str(new StringBuilder(), p.getText()).toString() : p.getText();
          }
          p.skipChildren();
        }
      } else {
        p.skipChildren();
      }
    }
    if (firstEnum != null) {
      return firstEnum;
    }
    return switch (type == null ? "" : type) {
      case "string" -> "\"mock\"";
      case "integer", "number" -> "1";
      case "boolean" -> "true";
      case "array" -> "[]";
      case "object" -> "{}";
      default -> "null";
    };
  }

  private void scanToolChoice(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t == VALUE_NULL) {
      return;
    }
    if (t != START_OBJECT) {
      throw new MockRequest.Invalid("tool_choice: Input should be a valid dictionary", null, null);
    }
    while (p.nextToken() == FIELD_NAME) {
      String field = p.currentName();
      t = p.nextToken();
      if (field.equals("type") && t == VALUE_STRING) {
        toolChoice = p.getText();
      } else if (field.equals("name") && t == VALUE_STRING) {
        toolChoiceName = p.getText();
      } else {
        p.skipChildren();
      }
    }
    if (toolChoice == null || !List.of("auto", "any", "tool", "none").contains(toolChoice)) {
      throw new MockRequest.Invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'", null, null);
    }
    if (toolChoice.equals("tool") && toolChoiceName == null) {
      throw new MockRequest.Invalid("tool_choice.name: Field required", null, null);
    }
  }
}
