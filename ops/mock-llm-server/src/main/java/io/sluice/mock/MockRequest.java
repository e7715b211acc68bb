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
import java.util.Arrays;

/**
 * What the mock needs from an inference request body, read in one streaming pass with jackson-core
 * (no object tree): the model, streaming options, the sizes behind the token estimates, embedding
 * inputs and the {@code "mock"} overrides. Fields the mock does not use are skipped.
 */
final class MockRequest {
  String model;
  boolean stream;
  boolean includeUsage;
  /** Number of chat messages, -1 when {@code messages} is absent. */
  int messages = -1;
  /** Total UTF-8 length of the messages' content strings (text parts included). */
  long contentBytes;
  /** Number of embedding inputs, -1 when {@code input} is absent. */
  int inputs = -1;
  long inputTokens;
  /** One deterministic seed per embedding input, from which its vector is derived. */
  long[] inputSeeds = new long[1];
  // "mock" overrides; -1 = not given
  long latencyMs = -1;
  long ttftMs = -1;
  long interTokenMs = -1;
  int tokens = -1;
  int status = -1;
  int failAfterTokens = -1;
  /** Seconds in the Retry-After header of a 429. */
  long retryAfter = -1;
  // usage the response reports instead of the mock's own counts; -1 = not given. The OpenAI mode
  // reports input as prompt_tokens and output as completion_tokens; the cache counts are Messages-only.
  long usageInput = -1;
  long usageOutput = -1;
  long usageCacheCreation = -1;
  long usageCacheRead = -1;
  /** Gemini mode: the thoughtsTokenCount reported, -1 = none. */
  long usageThoughts = -1;
  /** Messages mode: answer with a tool_use block even when tool_choice leaves the choice to the model. */
  boolean toolUse;
  /** Messages mode: after this many content deltas a stream sends {@code event: error} and ends. */
  int errorAfterTokens = -1;
  /** Messages mode: the {@code error.type} of that mid-stream error event. */
  String errorType;

  /** OpenAI mode: {@code max_completion_tokens}, else {@code max_tokens}; -1 when neither is given. */
  long maxTokens = -1;
  /** OpenAI mode: the {@code tools[].function}s, each with the argument pieces it would be called with. */
  final java.util.List<AnthropicRequest.Tool> tools = new java.util.ArrayList<>(0);
  /** OpenAI mode: {@code tool_choice} as {@code auto}, {@code none}, {@code required} or {@code function}; null when absent. */
  String toolChoice;
  /** OpenAI mode: the function a {@code {"type":"function"}} tool_choice names. */
  String toolChoiceName;

  /** The request is well-formed JSON but not something the mock can serve; answered with a 400. */
  static final class Invalid extends Exception {
    final String param;
    final String code;

    Invalid(String message, String param, String code) {
      super(message, null, false, false);
      this.param = param;
      this.code = code;
    }
  }

  /** Copies every {@code "mock"} knob of {@code defaults} (set by {@code POST /mock/config}) into this request. */
  void knobsFrom(MockRequest defaults) {
    latencyMs = defaults.latencyMs;
    ttftMs = defaults.ttftMs;
    interTokenMs = defaults.interTokenMs;
    tokens = defaults.tokens;
    status = defaults.status;
    failAfterTokens = defaults.failAfterTokens;
    retryAfter = defaults.retryAfter;
    usageInput = defaults.usageInput;
    usageOutput = defaults.usageOutput;
    usageCacheCreation = defaults.usageCacheCreation;
    usageCacheRead = defaults.usageCacheRead;
    usageThoughts = defaults.usageThoughts;
    toolUse = defaults.toolUse;
    errorAfterTokens = defaults.errorAfterTokens;
    errorType = defaults.errorType;
  }

  /** Parses a bare {@code "mock"} object, as {@code POST /mock/config} takes it under {@code "mock"}. */
  static MockRequest knobs(JsonParser p, JsonToken t) throws IOException, Invalid {
    MockRequest r = new MockRequest();
    r.scanMock(p, t);
    return r;
  }

  /** prompt_tokens of a chat request: UTF-8 length of all content / 4 (at least 1), plus 3 per message. */
  int promptTokens() {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, contentBytes / 4) + 3L * Math.max(messages, 0));
  }

  static MockRequest parse(JsonFactory factory, byte[] body) throws IOException, Invalid {
    return parse(factory, body, null);
  }

  /** As {@link #parse(JsonFactory, byte[])}, starting from the knobs of {@code defaults} when not null. */
  static MockRequest parse(JsonFactory factory, byte[] body, MockRequest defaults) throws IOException, Invalid {
    MockRequest r = new MockRequest();
    if (defaults != null) {
      r.knobsFrom(defaults);
    }
    try (JsonParser p = factory.createParser(body)) {
      if (p.nextToken() != START_OBJECT) {
        throw new Invalid("The request body must be a JSON object.", null, null);
      }
      while (p.nextToken() == FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        switch (name) {
          case "model" -> {
            if (t != VALUE_STRING && t != VALUE_NULL) {
              throw new Invalid("'model' must be a string.", "model", "invalid_type");
            }
            r.model = t == VALUE_STRING ? p.getText() : null;
          }
          case "stream" -> r.stream = t == VALUE_TRUE;
          case "stream_options" -> r.scanStreamOptions(p, t);
          case "messages" -> r.scanMessages(p, t);
          case "input", "prompt" -> r.scanInput(p, t); // prompt: the legacy completions API's input
          case "mock" -> r.scanMock(p, t);
          case "max_tokens" -> r.maxTokens = r.maxTokens >= 0 ? r.maxTokens : limit(p, t, name);
          case "max_completion_tokens" -> r.maxTokens = limit(p, t, name);
          case "tools" -> r.scanTools(p, t);
          case "tool_choice" -> r.scanToolChoice(p, t);
          default -> p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        throw new Invalid("Unexpected content after the JSON object.", null, null);
      }
    }
    return r;
  }

  /**
   * OpenAI mode: the function the answer calls, or null for a text answer. A named function or
   * {@code required} forces a call (of the first tool for required); {@code auto} calls the first
   * tool only when the {@code tool_use} knob asks for it.
   */
  AnthropicRequest.Tool chosenTool() throws Invalid {
    if ("function".equals(toolChoice)) {
      for (AnthropicRequest.Tool t : tools) {
        if (t.name().equals(toolChoiceName)) {
          return t;
        }
      }
      throw new Invalid("Invalid value for 'tool_choice': function '" + toolChoiceName + "' is not among 'tools'.",
          "tool_choice", "invalid_value");
    }
    if (tools.isEmpty() || "none".equals(toolChoice)) {
      return null;
    }
    return "required".equals(toolChoice) || toolUse ? tools.get(0) : null;
  }

  /** A positive integer limit; null counts as absent. */
  private static long limit(JsonParser p, JsonToken t, String field) throws IOException, Invalid {
    if (t == VALUE_NULL) {
      return -1;
    }
    if (t != VALUE_NUMBER_INT || p.getLongValue() < 1) {
      throw new Invalid("Invalid '" + field + "': expected an integer of at least 1.", field, "invalid_value");
    }
    return p.getLongValue();
  }

  /** {@code tools: [{"type":"function","function":{"name","parameters"}}]}: names and argument pieces. */
  private void scanTools(JsonParser p, JsonToken t) throws IOException, Invalid {
    if (t != START_ARRAY) {
      throw new Invalid("'tools' must be an array.", "tools", "invalid_type");
    }
    while ((t = p.nextToken()) != END_ARRAY) {
      if (t != START_OBJECT) {
        throw new Invalid("Each of 'tools' must be an object.", "tools", "invalid_type");
      }
      String name = null;
      java.util.List<String> pieces = java.util.List.of("", "{}");
      while (p.nextToken() == FIELD_NAME) {
        boolean function = "function".equals(p.currentName());
        t = p.nextToken();
        if (!function || t != START_OBJECT) {
          p.skipChildren();
          continue;
        }
        while (p.nextToken() == FIELD_NAME) {
          String field = p.currentName();
          t = p.nextToken();
          if (field.equals("name") && t == VALUE_STRING) {
            name = p.getText();
          } else if (field.equals("parameters") && t == START_OBJECT) {
            pieces = AnthropicRequest.inputPieces(p);
          } else {
            p.skipChildren();
          }
        }
      }
      if (name == null) {
        throw new Invalid("Missing required parameter: 'tools[" + tools.size() + "].function.name'.",
            "tools", "missing_required_parameter");
      }
      tools.add(new AnthropicRequest.Tool(name, pieces));
    }
  }

  /** {@code "auto" | "none" | "required"} or {@code {"type":"function","function":{"name"}}}. */
  private void scanToolChoice(JsonParser p, JsonToken t) throws IOException, Invalid {
    if (t == VALUE_NULL) {
      return;
    }
    if (t == VALUE_STRING) {
      toolChoice = p.getText();
      if (!java.util.List.of("auto", "none", "required").contains(toolChoice)) {
        throw new Invalid("Invalid value for 'tool_choice': '" + toolChoice + "'.", "tool_choice", "invalid_value");
      }
      return;
    }
    if (t != START_OBJECT) {
      throw new Invalid("'tool_choice' must be a string or an object.", "tool_choice", "invalid_type");
    }
    toolChoice = "function";
    while (p.nextToken() == FIELD_NAME) {
      boolean function = "function".equals(p.currentName());
      t = p.nextToken();
      if (!function || t != START_OBJECT) {
        p.skipChildren();
        continue;
      }
      while (p.nextToken() == FIELD_NAME) {
        boolean name = "name".equals(p.currentName());
        if (p.nextToken() == VALUE_STRING && name) {
          toolChoiceName = p.getText();
        } else {
          p.skipChildren();
        }
      }
    }
    if (toolChoiceName == null) {
      throw new Invalid("Missing required parameter: 'tool_choice.function.name'.", "tool_choice",
          "missing_required_parameter");
    }
  }

  private void scanStreamOptions(JsonParser p, JsonToken t) throws IOException {
    if (t != START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == FIELD_NAME) {
      boolean usage = "include_usage".equals(p.currentName());
      if (p.nextToken() == VALUE_TRUE && usage) {
        includeUsage = true;
      }
      p.skipChildren();
    }
  }

  private void scanMessages(JsonParser p, JsonToken t) throws IOException, Invalid {
    if (t != START_ARRAY) {
      throw new Invalid("'messages' must be an array.", "messages", "invalid_type");
    }
    messages = 0;
    while ((t = p.nextToken()) != END_ARRAY) {
      if (t != START_OBJECT) {
        throw new Invalid("Each of 'messages' must be an object.", "messages", "invalid_type");
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

  /** Content is a string, or an array of parts whose {@code text} strings count. */
  private void scanContent(JsonParser p, JsonToken t) throws IOException {
    if (t == VALUE_STRING) {
      contentBytes += utf8Length(p);
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
        boolean text = "text".equals(p.currentName());
        if (p.nextToken() == VALUE_STRING && text) {
          contentBytes += utf8Length(p);
        } else {
          p.skipChildren();
        }
      }
    }
  }

  /** Input is a string, an array of strings, an array of token ids, or an array of token-id arrays. */
  private void scanInput(JsonParser p, JsonToken t) throws IOException, Invalid {
    inputs = 0;
    if (t == VALUE_STRING) {
      addTextInput(p);
      return;
    }
    if (t != START_ARRAY) {
      throw new Invalid("'input' must be a string or an array.", "input", "invalid_type");
    }
    long idsSeed = 0;
    int ids = 0;
    while ((t = p.nextToken()) != END_ARRAY) {
      if (t == VALUE_STRING) {
        addTextInput(p);
      } else if (t == VALUE_NUMBER_INT) {
        idsSeed = idsSeed * 31 + p.getLongValue();
        ids++;
      } else if (t == START_ARRAY) {
        long seed = 0;
        int n = 0;
        while ((t = p.nextToken()) != END_ARRAY) {
          if (t != VALUE_NUMBER_INT) {
            throw new Invalid("Token arrays in 'input' must hold integers.", "input", "invalid_type");
          }
          seed = seed * 31 + p.getLongValue();
          n++;
        }
        addInput(seed, Math.max(1, n));
      } else {
        throw new Invalid("'input' must hold strings or token arrays.", "input", "invalid_type");
      }
    }
    if (ids > 0) {
      addInput(idsSeed, ids);
    }
    if (inputs == 0) {
      throw new Invalid("'input' must not be empty.", "input", null);
    }
  }

  private void addTextInput(JsonParser p) throws IOException {
    addInput(p.getText().hashCode(), Math.max(1, utf8Length(p) / 4));
  }

  private void addInput(long seed, long tokenCount) {
    if (inputs == inputSeeds.length) {
      inputSeeds = Arrays.copyOf(inputSeeds, inputs * 2);
    }
    inputSeeds[inputs++] = seed;
    inputTokens += tokenCount;
  }

  void scanMock(JsonParser p, JsonToken t) throws IOException, Invalid {
    if (t == VALUE_NULL) {
      return;
    }
    if (t != START_OBJECT) {
      throw new Invalid("'mock' must be an object.", "mock", "invalid_type");
    }
    while (p.nextToken() == FIELD_NAME) {
      String f = p.currentName();
      t = p.nextToken();
      switch (f) {
        case "latency_ms" -> latencyMs = number(p, t, f, Long.MAX_VALUE);
        case "ttft_ms" -> ttftMs = number(p, t, f, Long.MAX_VALUE);
        case "inter_token_ms" -> interTokenMs = number(p, t, f, Long.MAX_VALUE);
        case "tokens" -> tokens = (int) number(p, t, f, MockSettings.MAX_TOKENS);
        case "fail_after_tokens" -> failAfterTokens = (int) number(p, t, f, Integer.MAX_VALUE);
        case "retry_after" -> retryAfter = number(p, t, f, Integer.MAX_VALUE);
        case "error_after_tokens" -> errorAfterTokens = (int) number(p, t, f, Integer.MAX_VALUE);
        case "tool_use" -> toolUse = t == JsonToken.VALUE_TRUE;
        case "error_type" -> {
          if (t != VALUE_STRING && t != VALUE_NULL) {
            throw new Invalid("'mock.error_type' must be a string.", "mock.error_type", "invalid_type");
          }
          errorType = t == VALUE_STRING ? p.getText() : null;
        }
        case "usage" -> scanUsage(p, t);
        case "status" -> {
          status = (int) number(p, t, f, 599);
          if (status != -1 && status != 200 && status < 400) {
            throw new Invalid("'mock.status' must be 200 or in [400, 599].", "mock.status", "invalid_value");
          }
        }
        default -> p.skipChildren();
      }
    }
  }

  private void scanUsage(JsonParser p, JsonToken t) throws IOException, Invalid {
    if (t == VALUE_NULL) {
      return;
    }
    if (t != START_OBJECT) {
      throw new Invalid("'mock.usage' must be an object.", "mock.usage", "invalid_type");
    }
    while (p.nextToken() == FIELD_NAME) {
      String f = p.currentName();
      t = p.nextToken();
      switch (f) {
        case "input_tokens" -> usageInput = number(p, t, "usage." + f, Integer.MAX_VALUE);
        case "output_tokens" -> usageOutput = number(p, t, "usage." + f, Integer.MAX_VALUE);
        case "cache_creation_input_tokens" -> usageCacheCreation = number(p, t, "usage." + f, Integer.MAX_VALUE);
        case "cache_read_input_tokens" -> usageCacheRead = number(p, t, "usage." + f, Integer.MAX_VALUE);
        case "thoughts_tokens" -> usageThoughts = number(p, t, "usage." + f, Integer.MAX_VALUE);
        default -> p.skipChildren();
      }
    }
  }

  /** A non-negative integer up to {@code max}, or -1 for null. */
  private static long number(JsonParser p, JsonToken t, String field, long max) throws IOException, Invalid {
    if (t == VALUE_NULL) {
      return -1;
    }
    if (t != VALUE_NUMBER_INT || p.getLongValue() < 0 || p.getLongValue() > max) {
      throw new Invalid("'mock." + field + "' must be an integer in [0, " + max + "].", "mock." + field, "invalid_value");
    }
    return p.getLongValue();
  }

  /** UTF-8 length of the current string token, without materialising it as a String. */
  static int utf8Length(JsonParser p) throws IOException {
    char[] chars = p.getTextCharacters();
    int from = p.getTextOffset();
    int to = from + p.getTextLength();
    int n = to - from;
    for (int i = from; i < to; i++) {
      char c = chars[i];
      if (c >= 0x80) {
        // 2 bytes below U+0800; a surrogate pair is 4 bytes, i.e. 2 per char; otherwise 3 bytes
        n += c < 0x800 || Character.isSurrogate(c) ? 1 : 2;
      }
    }
    return n;
  }
}
