package io.sluice.mock;

import static com.fasterxml.jackson.core.JsonToken.END_ARRAY;
import static com.fasterxml.jackson.core.JsonToken.FIELD_NAME;
import static com.fasterxml.jackson.core.JsonToken.START_ARRAY;
import static com.fasterxml.jackson.core.JsonToken.START_OBJECT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_INT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_STRING;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the mock needs from a Gemini generateContent request, read in one streaming pass: the
 * counts the request summary reports and the token estimate rests on, the declared functions
 * (with the arguments each would be called with, from its {@code parametersJsonSchema} or
 * {@code parameters}), {@code toolConfig.functionCallingConfig}, {@code maxOutputTokens}, and the
 * {@code "mock"} knobs (a field the real API would refuse; the mock also takes them from
 * {@code POST /mock/config}, which is how tests reach it through a gateway).
 */
final class GeminiRequest {
  final MockRequest knobs;
  /** Number of contents, -1 when absent. */
  int contents = -1;
  boolean system;
  int images;
  int functionCalls;
  int functionResponses;
  /** Function calls replayed with a thoughtSignature. */
  int signatures;
  long textBytes;
  long maxOutputTokens = -1;
  final List<AnthropicRequest.Tool> tools = new ArrayList<>(2);
  /** AUTO, ANY or NONE; null when absent. */
  String mode;
  final List<String> allowed = new ArrayList<>(1);

  private GeminiRequest(MockRequest defaults) {
    knobs = new MockRequest();
    if (defaults != null) {
      knobs.knobsFrom(defaults);
    }
  }

  /** As Anthropic mode estimates it: {@code max(1, textBytes / 4) + 3 per content + 100 per image}. */
  int promptTokens() {
    long n = Math.max(1, textBytes / 4) + 3L * Math.max(contents, 0) + (long) AnthropicRequest.IMAGE_TOKENS * images;
    return (int) Math.min(Integer.MAX_VALUE, n);
  }

  /** The function the answer calls, or null for a text answer. */
  AnthropicRequest.Tool chosenTool() throws MockRequest.Invalid {
    if (tools.isEmpty() || "NONE".equals(mode)) {
      return null;
    }
    if ("ANY".equals(mode) && !allowed.isEmpty()) {
      for (AnthropicRequest.Tool t : tools) {
        if (t.name().equals(allowed.get(0))) {
          return t;
        }
      }
      throw new MockRequest.Invalid("allowedFunctionNames names '" + allowed.get(0) + "', which is not declared.",
          null, null);
    }
    return "ANY".equals(mode) || knobs.toolUse ? tools.get(0) : null;
  }

  boolean toolForced() {
    return "ANY".equals(mode);
  }

  /** {@code contents=2,system=1,images=0,function_calls=0,function_responses=0,signatures=0,tools=1,mode=AUTO,max_output_tokens=64}. */
  String summary() {
    return "contents=" + Math.max(contents, 0) + ",system=" + (system ? 1 : 0) + ",images=" + images
        + ",function_calls=" + functionCalls + ",function_responses=" + functionResponses + ",signatures="
        + signatures + ",tools=" + tools.size() + ",mode=" + (mode == null ? "none_given" : mode)
        + (allowed.isEmpty() ? "" : ",allowed=" + String.join("|", allowed)) + ",max_output_tokens=" + maxOutputTokens;
  }

  static GeminiRequest parse(JsonFactory factory, byte[] body, MockRequest defaults)
      throws IOException, MockRequest.Invalid {
    GeminiRequest r = new GeminiRequest(defaults);
    try (JsonParser p = factory.createParser(body)) {
      if (p.nextToken() != START_OBJECT) {
        throw new MockRequest.Invalid("Invalid JSON payload received. Expected an object.", null, null);
      }
      while (p.nextToken() == FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        switch (name) {
          case "contents" -> r.scanContents(p, t);
          case "systemInstruction" -> {
            r.system = true;
            r.scanContent(p, t);
          }
          case "tools" -> r.scanTools(p, t);
          case "toolConfig" -> r.scanToolConfig(p, t);
          case "generationConfig" -> r.scanGeneration(p, t);
          case "mock" -> r.knobs.scanMock(p, t);
          case "safetySettings", "cachedContent", "labels" -> p.skipChildren();
          default -> throw new MockRequest.Invalid("Invalid JSON payload received. Unknown name \"" + name
              + "\": Cannot find field.", null, null);
        }
      }
    }
    if (r.contents <= 0) {
      throw new MockRequest.Invalid("* GenerateContentRequest.contents: contents is not specified", null, null);
    }
    return r;
  }

  private void scanContents(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t != START_ARRAY) {
      throw new MockRequest.Invalid("Invalid value at 'contents': expected a list", null, null);
    }
    contents = 0;
    while ((t = p.nextToken()) != END_ARRAY) {
      contents++;
      String role = scanContent(p, t);
      if (role != null && !role.equals("user") && !role.equals("model")) {
        throw new MockRequest.Invalid("Please use a valid role: user, model.", null, null);
      }
    }
  }

  /** A Content object: its role (null when absent), counting its parts. */
  private String scanContent(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t != START_OBJECT) {
      throw new MockRequest.Invalid("Invalid value: a Content must be an object", null, null);
    }
    String role = null;
    while (p.nextToken() == FIELD_NAME) {
      String field = p.currentName();
      t = p.nextToken();
      if (field.equals("role") && t == VALUE_STRING) {
        role = p.getText();
      } else if (field.equals("parts") && t == START_ARRAY) {
        while ((t = p.nextToken()) != END_ARRAY) {
          scanPart(p, t);
        }
      } else {
        p.skipChildren();
      }
    }
    return role;
  }

  private void scanPart(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t != START_OBJECT) {
      throw new MockRequest.Invalid("Invalid value: a Part must be an object", null, null);
    }
    boolean call = false;
    boolean signed = false;
    while (p.nextToken() == FIELD_NAME) {
      String field = p.currentName();
      t = p.nextToken();
      switch (field) {
        case "text" -> textBytes += MockRequest.utf8Length(p);
        case "inlineData", "fileData" -> {
          images++;
          p.skipChildren();
        }
        case "functionCall" -> {
          call = true;
          functionCalls++;
          p.skipChildren();
        }
        case "functionResponse" -> {
          functionResponses++;
          requireObjectResponse(p, t);
        }
        case "thoughtSignature" -> signed = t == VALUE_STRING;
        default -> p.skipChildren();
      }
    }
    if (call && signed) {
      signatures++;
    }
  }

  /** The real API refuses a functionResponse whose {@code response} is not an object. */
  private void requireObjectResponse(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t != START_OBJECT) {
      throw new MockRequest.Invalid("Invalid value at 'functionResponse'", null, null);
    }
    boolean named = false;
    while (p.nextToken() == FIELD_NAME) {
      String field = p.currentName();
      t = p.nextToken();
      if (field.equals("response") && t != START_OBJECT) {
        throw new MockRequest.Invalid("Invalid value at 'functionResponse.response': expected an object", null, null);
      }
      if (field.equals("name") && t == VALUE_STRING && !p.getText().isEmpty()) {
        named = true;
      }
      p.skipChildren();
    }
    if (!named) {
      throw new MockRequest.Invalid("* GenerateContentRequest.contents.parts.function_response.name: Name cannot be empty.",
          null, null);
    }
  }

  private void scanTools(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t != START_ARRAY) {
      throw new MockRequest.Invalid("Invalid value at 'tools': expected a list", null, null);
    }
    while ((t = p.nextToken()) != END_ARRAY) {
      while (p.nextToken() == FIELD_NAME) {
        boolean declarations = "functionDeclarations".equals(p.currentName());
        t = p.nextToken();
        if (!declarations || t != START_ARRAY) {
          p.skipChildren();
          continue;
        }
        while ((t = p.nextToken()) != END_ARRAY) {
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
            } else if ((field.equals("parametersJsonSchema") || field.equals("parameters")) && t == START_OBJECT) {
              pieces = AnthropicRequest.inputPieces(p);
            } else {
              p.skipChildren();
            }
          }
          if (name == null) {
            throw new MockRequest.Invalid("* GenerateContentRequest.tools[0].function_declarations[" + tools.size()
                + "].name: Name cannot be empty.", null, null);
          }
          tools.add(new AnthropicRequest.Tool(name, pieces));
        }
      }
    }
  }

  private void scanToolConfig(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t != START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == FIELD_NAME) {
      boolean config = "functionCallingConfig".equals(p.currentName());
      t = p.nextToken();
      if (!config || t != START_OBJECT) {
        p.skipChildren();
        continue;
      }
      while (p.nextToken() == FIELD_NAME) {
        String field = p.currentName();
        t = p.nextToken();
        if (field.equals("mode") && t == VALUE_STRING) {
          mode = p.getText();
        } else if (field.equals("allowedFunctionNames") && t == START_ARRAY) {
          while ((t = p.nextToken()) != END_ARRAY) {
            allowed.add(p.getText());
          }
        } else {
          p.skipChildren();
        }
      }
    }
    if (mode != null && !List.of("AUTO", "ANY", "NONE", "VALIDATED").contains(mode)) {
      throw new MockRequest.Invalid("Invalid value at 'tool_config.function_calling_config.mode' (" + mode + ")",
          null, null);
    }
    if (!allowed.isEmpty() && !"ANY".equals(mode)) {
      throw new MockRequest.Invalid("allowed_function_names may be set only when the mode is ANY.", null, null);
    }
  }

  private void scanGeneration(JsonParser p, JsonToken t) throws IOException, MockRequest.Invalid {
    if (t != START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == FIELD_NAME) {
      String field = p.currentName();
      t = p.nextToken();
      if (field.equals("maxOutputTokens")) {
        if (t != VALUE_NUMBER_INT || p.getLongValue() < 1) {
          throw new MockRequest.Invalid("Invalid value at 'generation_config.max_output_tokens'", null, null);
        }
        maxOutputTokens = p.getLongValue();
      } else {
        p.skipChildren();
      }
    }
  }
}
