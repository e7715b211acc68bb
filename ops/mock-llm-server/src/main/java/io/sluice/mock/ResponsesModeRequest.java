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
 * What the mock needs from an OpenAI Responses API request ({@code POST /v1/responses}), read in one
 * streaming pass like {@link MockRequest}: the model, {@code stream}, {@code max_output_tokens},
 * the sizes behind the input estimate ({@code instructions} and {@code input}, a string or items),
 * the counts the request summary reports, the function tools with the arguments each would be
 * called with (as {@link AnthropicRequest} derives them from the schema), {@code tool_choice}, and
 * the {@code "mock"} knobs.
 */
final class ResponsesModeRequest {
  final MockRequest knobs;
  String model;
  boolean stream;
  /** {@code max_output_tokens}, -1 when absent. */
  long maxOutputTokens = -1;
  /** Number of input items (1 for a string input), -1 when {@code input} is absent. */
  int items = -1;
  boolean instructions;
  int images;
  int functionCalls;
  int functionOutputs;
  long textBytes;
  String previousResponseId;
  final List<AnthropicRequest.Tool> tools = new ArrayList<>(2);
  /** auto, none, required or function; null when absent. */
  String toolChoice;
  String toolChoiceName;

  private ResponsesModeRequest(MockRequest defaults) {
    knobs = new MockRequest();
    if (defaults != null) {
      knobs.knobsFrom(defaults);
    }
  }

  /** {@code max(1, textBytes / 4) + 3 per item + 100 per image}, the input tokens the mock reports. */
  int inputTokens() {
    long n = Math.max(1, textBytes / 4) + 3L * Math.max(items, 0) + (long) AnthropicRequest.IMAGE_TOKENS * images;
    return (int) Math.min(Integer.MAX_VALUE, n);
  }

  /** The tool the answer calls, or null for a text answer. */
  AnthropicRequest.Tool chosenTool() throws MockRequest.Invalid {
    if ("function".equals(toolChoice)) {
      for (AnthropicRequest.Tool t : tools) {
        if (t.name().equals(toolChoiceName)) {
          return t;
        }
      }
      throw new MockRequest.Invalid("Tool choice '" + toolChoiceName + "' not found in 'tools' parameter.",
          "tool_choice", null);
    }
    if (tools.isEmpty() || "none".equals(toolChoice)) {
      return null;
    }
    return "required".equals(toolChoice) || knobs.toolUse ? tools.get(0) : null;
  }

  boolean toolForced() {
    return "required".equals(toolChoice) || "function".equals(toolChoice);
  }

  /** {@code items=2,instructions=1,images=0,function_calls=0,function_outputs=0,tools=1,tool_choice=auto,max_output_tokens=64,stream=0}. */
  String summary() {
    return "items=" + Math.max(items, 0) + ",instructions=" + (instructions ? 1 : 0) + ",images=" + images
        + ",function_calls=" + functionCalls + ",function_outputs=" + functionOutputs + ",tools=" + tools.size()
        + ",tool_choice=" + (toolChoice == null ? "none_given" : toolChoice) + ",max_output_tokens="
        + maxOutputTokens + ",stream=" + (stream ? 1 : 0);
  }

  static ResponsesModeRequest parse(JsonFactory factory, byte[] body, MockRequest defaults)
      throws IOException, MockRequest.Invalid {
    ResponsesModeRequest r = new ResponsesModeRequest(defaults);
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
              throw new MockRequest.Invalid("Invalid type for 'model': expected a string.", "model", "invalid_type");
            }
            r.model = t == VALUE_STRING ? p.getText() : null;
          }
          case "stream" -> r.stream = t == VALUE_TRUE;
          case "max_output_tokens" -> {
            if (t == VALUE_NULL) {
              break;
            }
            if (t != VALUE_NUMBER_INT || p.getLongValue() < 16) {
              throw new MockRequest.Invalid("Invalid 'max_output_tokens': integer below minimum value. Expected a"
                  + " value >= 16.", "max_output_tokens", "integer_below_min_value");
            }
            r.maxOutputTokens = p.getLongValue();
          }
          case "instructions" -> {
            r.instructions = t == VALUE_STRING;
            if (t == VALUE_STRING) {
              r.textBytes += MockRequest.utf8Length(p);
            } else {
              p.skipChildren();
            }
          }
          case "previous_response_id" -> {
            r.previousResponseId = t == VALUE_STRING ? p.getText() : null;
            p.skipChildren();
          }
          case "input" -> r.scanInput(p, t);
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
    return r;
  }

  private void scanInput(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t == VALUE_STRING) {
      items = 1;
      textBytes += MockRequest.utf8Length(p);
      return;
    }
    if (t != START_ARRAY) {
      throw new MockRequest.Invalid("Invalid type for 'input': expected a string or an array.", "input",
          "invalid_type");
    }
    items = 0;
    while ((t = p.nextToken()) != END_ARRAY) {
      if (t != START_OBJECT) {
        throw new MockRequest.Invalid("Invalid type for 'input[" + items + "]': expected an object.",
            "input[" + items + "]", "invalid_type");
      }
      items++;
      scanItem(p);
    }
  }

  /** One input item (the parser is on its START_OBJECT): its type, texts, images and call arguments. */
  private void scanItem(JsonParser p) throws IOException {
    while (p.nextToken() == FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      if (field.equals("type") && t == VALUE_STRING) {
        switch (p.getText()) {
          case "function_call" -> functionCalls++;
          case "function_call_output" -> functionOutputs++;
          case "input_image" -> images++;
          default -> { }
        }
      } else if ((field.equals("text") || field.equals("arguments") || field.equals("output")
          || field.equals("content")) && t == VALUE_STRING) {
        textBytes += MockRequest.utf8Length(p);
      } else if ((field.equals("content") || field.equals("output")) && t == START_ARRAY) {
        while ((t = p.nextToken()) != END_ARRAY) {
          if (t == START_OBJECT) {
            scanItem(p); // a content part has the same fields that count
          } else {
            p.skipChildren();
          }
        }
      } else {
        p.skipChildren();
      }
    }
  }

  private void scanTools(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t == VALUE_NULL) {
      return;
    }
    if (t != START_ARRAY) {
      throw new MockRequest.Invalid("Invalid type for 'tools': expected an array.", "tools", "invalid_type");
    }
    while ((t = p.nextToken()) != END_ARRAY) {
      if (t != START_OBJECT) {
        throw new MockRequest.Invalid("Invalid type for 'tools[" + tools.size() + "]': expected an object.",
            "tools[" + tools.size() + "]", "invalid_type");
      }
      String name = null;
      String type = null;
      List<String> pieces = List.of("", "{}");
      while (p.nextToken() == FIELD_NAME) {
        String field = p.currentName();
        t = p.nextToken();
        if (field.equals("name") && t == VALUE_STRING) {
          name = p.getText();
          textBytes += MockRequest.utf8Length(p);
        } else if (field.equals("type") && t == VALUE_STRING) {
          type = p.getText();
        } else if (field.equals("description") && t == VALUE_STRING) {
          textBytes += MockRequest.utf8Length(p);
        } else if (field.equals("parameters") && t == START_OBJECT) {
          pieces = AnthropicRequest.inputPieces(p);
        } else {
          p.skipChildren();
        }
      }
      if (!"function".equals(type)) {
        continue; // hosted tools (web_search, ...) are accepted and never called by the mock
      }
      if (name == null) {
        throw new MockRequest.Invalid("Missing required parameter: 'tools[" + tools.size() + "].name'.",
            "tools[" + tools.size() + "].name", "missing_required_parameter");
      }
      tools.add(new AnthropicRequest.Tool(name, pieces));
    }
  }

  private void scanToolChoice(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t == VALUE_NULL) {
      return;
    }
    if (t == VALUE_STRING) {
      toolChoice = p.getText();
      if (!List.of("auto", "none", "required").contains(toolChoice)) {
        throw new MockRequest.Invalid("Invalid value for 'tool_choice': expected auto, none or required.",
            "tool_choice", "invalid_value");
      }
      return;
    }
    if (t != START_OBJECT) {
      throw new MockRequest.Invalid("Invalid type for 'tool_choice'.", "tool_choice", "invalid_type");
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
    if (!"function".equals(toolChoice) || toolChoiceName == null) {
      throw new MockRequest.Invalid("The mock takes tool_choice {\"type\":\"function\",\"name\":...} only.",
          "tool_choice", "invalid_value");
    }
  }
}
