package io.sluice.it;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.beta.messages.BetaMessage;
import com.anthropic.models.messages.Base64ImageSource;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.ImageBlockParam;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.TextBlockParam;
import com.anthropic.models.messages.ToolChoiceAny;
import com.anthropic.models.messages.ToolChoiceAuto;
import com.anthropic.models.messages.ToolChoiceTool;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.anthropic.models.messages.ToolUseBlockParam;
import com.anthropic.models.messages.UrlImageSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One surface's official SDK (openai-java for the OpenAI surface, anthropic-java for the Anthropic
 * surface) behind one neutral interface, so that the conformance scenarios state a request once
 * ({@link Ask}) and check one neutral answer ({@link Reply}, {@link Failure}) on every pair. Each
 * SDK parses everything the gateway sends: responses, streams (through the SDK's own accumulator),
 * tool calls and errors (as the SDK's typed exceptions). Raw HTTP ({@link #raw}) is only for what
 * no SDK shows: the exact headers and error bodies.
 */
abstract class SdkClient implements AutoCloseable {
  /** Which client protocol the gateway is spoken to in. */
  enum Surface { OPENAI, ANTHROPIC }

  enum ToolChoice { AUTO, REQUIRED, NAMED }

  enum Image { BASE64, URL }

  /** max_tokens sent on the Anthropic surface when a scenario gives none (Anthropic requires it). */
  static final long DEFAULT_MAX_TOKENS = 64;
  static final String USER_TEXT = "Say hello to the gateway";
  static final String WEATHER_DESCRIPTION = "Current weather of a city.";
  static final String PREVIOUS_CALL_ID = "call_prev_weather_1";
  static final String TOOL_RESULT = "sunny, 21 C";

  /** A request, in no protocol's terms. */
  static final class Ask {
    final String model;
    String system;
    Long maxTokens;
    boolean stream;
    ToolChoice toolChoice;
    String toolName;
    boolean toolTurn;
    Image image;
    String beta;
    /** OpenAI surface: a stream without stream_options.include_usage. */
    boolean withoutUsage;

    Ask(String model) {
      this.model = model;
    }

    Ask system(String s) {
      system = s;
      return this;
    }

    Ask maxTokens(long n) {
      maxTokens = n;
      return this;
    }

    Ask stream() {
      stream = true;
      return this;
    }

    /** The tools get_weather(city, unit) and get_time(zone), chosen as {@code choice} says. */
    Ask tools(ToolChoice choice, String name) {
      toolChoice = choice;
      toolName = name;
      return this;
    }

    /** After the user's message: the assistant's earlier get_weather call, and its result. */
    Ask toolTurn() {
      toolTurn = true;
      return this;
    }

    Ask image(Image i) {
      image = i;
      return this;
    }

    Ask withoutUsage() {
      withoutUsage = true;
      return this;
    }

    /** An anthropic-beta header (Anthropic surface only; the OpenAI SDK has none). */
    Ask beta(String b) {
      beta = b;
      return this;
    }
  }

  record Call(String id, String name, JsonNode arguments) {}

  /**
   * A parsed answer. finish uses OpenAI's names (stop, length, tool_calls); Anthropic's stop reasons
   * are mapped (end_turn and stop_sequence: stop, max_tokens: length, tool_use: tool_calls).
   */
  record Reply(String text, List<Call> calls, String finish, long inputTokens, long outputTokens, long cacheCreation,
      long cacheRead) {}

  /** An error the SDK raised as its typed exception; type is Anthropic's error.type (null on OpenAI). */
  record Failure(RuntimeException exception, int status, String type, String message) {}

  /** A stream that ended with an error event, after contentEvents text or tool deltas. */
  record StreamFailure(RuntimeException exception, String type, int contentEvents) {}

  final String base;
  final String key;

  SdkClient(String base, String key) {
    this.base = base;
    this.key = key;
  }

  static SdkClient of(Surface surface, String base, String key) {
    return surface == Surface.OPENAI ? new OpenAi(base, key) : new Anthropic(base, key);
  }

  /** Sends the request through the SDK; a stream is read to its end with the SDK's accumulator. */
  abstract Reply send(Ask ask);

  /** Sends a request that must fail, and returns the SDK's exception. */
  abstract Failure fail(Ask ask);

  /** Reads a stream that must end with an error event. */
  abstract StreamFailure failStreaming(Ask ask);

  /** Reads {@code deltas} content deltas of a stream, then closes it; returns the deltas read. */
  abstract int readThenCancel(Ask ask, int deltas);

  /**
   * The request as raw HTTP (the user message, and of the Ask only stream and a NAMED tool), to see
   * the gateway's headers and exact bodies and stream framing.
   */
  abstract HttpResponse<String> raw(Ask ask);

  @Override
  public abstract void close();

  static JsonNode weatherSchema() {
    return Api.json("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
        + "\"unit\":{\"type\":\"string\",\"enum\":[\"celsius\",\"fahrenheit\"]}},\"required\":[\"city\"]}");
  }

  static JsonNode timeSchema() {
    return Api.json("{\"type\":\"object\",\"properties\":{\"zone\":{\"type\":\"string\"}}}");
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(JsonNode n) {
    return Api.JSON.convertValue(n, Map.class);
  }

  // ------------------------------------------------------------------ OpenAI

  /** The OpenAI surface through com.openai:openai-java. */
  static final class OpenAi extends SdkClient {
    private final OpenAIClient sdk;

    OpenAi(String base, String key) {
      super(base, key);
      sdk = OpenAIOkHttpClient.builder().apiKey(key).baseUrl(base + "/v1").maxRetries(0)
          .timeout(Duration.ofSeconds(30)).build();
    }

    ChatCompletionCreateParams params(Ask ask) {
      ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder().model(ask.model);
      if (ask.system != null) {
        b.addSystemMessage(ask.system);
      }
      if (ask.image != null) {
        String url = ask.image == Image.BASE64 ? "data:image/png;base64," + ConformanceIT.PNG_BASE64
            : ConformanceIT.IMAGE_URL;
        b.addUserMessageOfArrayOfContentParts(List.of(
            ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text(USER_TEXT).build()),
            ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder().url(url).build()).build())));
      } else {
        b.addUserMessage(USER_TEXT);
      }
      if (ask.toolTurn) {
        b.addMessage(ChatCompletionAssistantMessageParam.builder().addToolCall(ChatCompletionMessageFunctionToolCall
            .builder().id(PREVIOUS_CALL_ID).function(ChatCompletionMessageFunctionToolCall.Function.builder()
                .name("get_weather").arguments("{\"city\":\"Paris\"}").build()).build()).build());
        b.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(PREVIOUS_CALL_ID).content(TOOL_RESULT).build());
      }
      if (ask.toolChoice != null) {
        b.addTool(tool("get_weather", WEATHER_DESCRIPTION, weatherSchema()));
        b.addTool(tool("get_time", "The time in a zone.", timeSchema()));
        switch (ask.toolChoice) {
          case AUTO -> b.toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO);
          case REQUIRED -> b.toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED);
          case NAMED -> b.toolChoice(ChatCompletionNamedToolChoice.builder()
              .function(ChatCompletionNamedToolChoice.Function.builder().name(ask.toolName).build()).build());
        }
      }
      if (ask.maxTokens != null) {
        b.maxCompletionTokens(ask.maxTokens);
      }
      if (ask.stream && !ask.withoutUsage) {
        b.streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build());
      }
      return b.build();
    }

    private static ChatCompletionFunctionTool tool(String name, String description, JsonNode schema) {
      FunctionParameters.Builder params = FunctionParameters.builder();
      map(schema).forEach((k, v) -> params.putAdditionalProperty(k, JsonValue.from(v)));
      return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name(name)
          .description(description).parameters(params.build()).build()).build();
    }

    @Override
    Reply send(Ask ask) {
      ChatCompletion c;
      if (ask.stream) {
        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> s = sdk.chat().completions().createStreaming(params(ask))) {
          s.stream().forEach(acc::accumulate);
        }
        c = acc.chatCompletion();
      } else {
        c = sdk.chat().completions().create(params(ask));
      }
      ChatCompletion.Choice choice = c.choices().get(0);
      List<Call> calls = new ArrayList<>();
      choice.message().toolCalls().orElse(List.of()).forEach(t -> {
        ChatCompletionMessageFunctionToolCall f = t.asFunction();
        calls.add(new Call(f.id(), f.function().name(), Api.json(f.function().arguments())));
      });
      long prompt = c.usage().map(u -> u.promptTokens()).orElse(-1L);
      long completion = c.usage().map(u -> u.completionTokens()).orElse(-1L);
      return new Reply(choice.message().content().orElse(""), calls, choice.finishReason().asString(), prompt,
          completion, 0, 0);
    }

    @Override
    Failure fail(Ask ask) {
      try {
        send(ask);
      } catch (OpenAIServiceException e) {
        return new Failure(e, e.statusCode(), null, String.valueOf(e.getMessage()));
      }
      throw new AssertionError("the request succeeded");
    }

    @Override
    StreamFailure failStreaming(Ask ask) {
      int content = 0;
      try (StreamResponse<ChatCompletionChunk> s = sdk.chat().completions().createStreaming(params(ask))) {
        Iterator<ChatCompletionChunk> it = s.stream().iterator();
        while (it.hasNext()) {
          content += contentDeltas(it.next());
        }
      } catch (OpenAIServiceException e) {
        return new StreamFailure(e, e.type().orElse(null), content);
      }
      throw new AssertionError("the stream ended without an error after " + content + " deltas");
    }

    private static int contentDeltas(ChatCompletionChunk chunk) {
      int n = 0;
      for (ChatCompletionChunk.Choice c : chunk.choices()) {
        if (c.delta().content().filter(t -> !t.isEmpty()).isPresent() || c.delta().toolCalls().isPresent()) {
          n++;
        }
      }
      return n;
    }

    @Override
    int readThenCancel(Ask ask, int deltas) {
      int content = 0;
      try (StreamResponse<ChatCompletionChunk> s = sdk.chat().completions().createStreaming(params(ask))) {
        Iterator<ChatCompletionChunk> it = s.stream().iterator();
        while (content < deltas && it.hasNext()) {
          content += contentDeltas(it.next());
        }
      }
      return content;
    }

    @Override
    HttpResponse<String> raw(Ask ask) {
      StringBuilder body = new StringBuilder("{\"model\":\"").append(ask.model)
          .append("\",\"messages\":[{\"role\":\"user\",\"content\":\"").append(USER_TEXT).append("\"}]");
      if (ask.stream) {
        body.append(ask.withoutUsage ? ",\"stream\":true" : ",\"stream\":true,\"stream_options\":{\"include_usage\":true}");
      }
      if (ask.toolChoice == ToolChoice.NAMED) {
        body.append(",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"").append(ask.toolName)
            .append("\",\"parameters\":").append(timeSchema()).append("}}],\"tool_choice\":{\"type\":\"function\",")
            .append("\"function\":{\"name\":\"").append(ask.toolName).append("\"}}");
      }
      return Api.send("POST", base + "/v1/chat/completions", Map.of("Authorization", "Bearer " + key),
          body.append('}').toString());
    }

    @Override
    public void close() {
      sdk.close();
    }
  }

  // ------------------------------------------------------------------ Anthropic

  /** The Anthropic surface through com.anthropic:anthropic-java (base URL without /v1: the SDK adds it). */
  static final class Anthropic extends SdkClient {
    private final AnthropicClient sdk;

    Anthropic(String base, String key) {
      super(base, key);
      sdk = AnthropicOkHttpClient.builder().apiKey(key).baseUrl(base).maxRetries(0)
          .timeout(Duration.ofSeconds(30)).build();
    }

    MessageCreateParams params(Ask ask) {
      MessageCreateParams.Builder b = MessageCreateParams.builder().model(ask.model)
          .maxTokens(ask.maxTokens == null ? DEFAULT_MAX_TOKENS : ask.maxTokens);
      if (ask.system != null) {
        b.system(ask.system);
      }
      if (ask.image != null) {
        ImageBlockParam image = ask.image == Image.BASE64
            ? ImageBlockParam.builder().source(Base64ImageSource.builder().data(ConformanceIT.PNG_BASE64)
                .mediaType(Base64ImageSource.MediaType.IMAGE_PNG).build()).build()
            : ImageBlockParam.builder().source(UrlImageSource.builder().url(ConformanceIT.IMAGE_URL).build()).build();
        b.addUserMessageOfContentBlockParams(List.of(
            ContentBlockParam.ofText(TextBlockParam.builder().text(USER_TEXT).build()),
            ContentBlockParam.ofImage(image)));
      } else {
        b.addUserMessage(USER_TEXT);
      }
      if (ask.toolTurn) {
        b.addAssistantMessageOfContentBlockParams(List.of(ContentBlockParam.ofToolUse(ToolUseBlockParam.builder()
            .id(PREVIOUS_CALL_ID).name("get_weather").input(ToolUseBlockParam.Input.builder()
                .putAdditionalProperty("city", com.anthropic.core.JsonValue.from("Paris")).build()).build())));
        b.addUserMessageOfContentBlockParams(List.of(ContentBlockParam.ofToolResult(ToolResultBlockParam.builder()
            .toolUseId(PREVIOUS_CALL_ID).content(TOOL_RESULT).build())));
      }
      if (ask.toolChoice != null) {
        b.addTool(tool("get_weather", WEATHER_DESCRIPTION, weatherSchema()));
        b.addTool(tool("get_time", "The time in a zone.", timeSchema()));
        switch (ask.toolChoice) {
          case AUTO -> b.toolChoice(ToolChoiceAuto.builder().build());
          case REQUIRED -> b.toolChoice(ToolChoiceAny.builder().build());
          case NAMED -> b.toolChoice(ToolChoiceTool.builder().name(ask.toolName).build());
        }
      }
      if (ask.beta != null) {
        b.putAdditionalHeader("anthropic-beta", ask.beta);
      }
      return b.build();
    }

    private static com.anthropic.models.messages.Tool tool(String name, String description, JsonNode schema) {
      com.anthropic.models.messages.Tool.InputSchema.Builder s = com.anthropic.models.messages.Tool.InputSchema.builder()
          .properties(com.anthropic.core.JsonValue.from(map(schema.get("properties"))));
      if (schema.has("required")) {
        List<String> required = new ArrayList<>();
        schema.get("required").forEach(r -> required.add(r.asText()));
        s.required(required);
      }
      return com.anthropic.models.messages.Tool.builder().name(name).description(description).inputSchema(s.build())
          .build();
    }

    @Override
    Reply send(Ask ask) {
      Message m;
      if (ask.stream) {
        MessageAccumulator acc = MessageAccumulator.create();
        try (com.anthropic.core.http.StreamResponse<RawMessageStreamEvent> s =
                 sdk.messages().createStreaming(params(ask))) {
          s.stream().forEach(acc::accumulate);
        }
        m = acc.message();
      } else {
        m = sdk.messages().create(params(ask));
      }
      StringBuilder text = new StringBuilder();
      List<Call> calls = new ArrayList<>();
      for (ContentBlock block : m.content()) {
        block.text().ifPresent(t -> text.append(t.text()));
        block.toolUse().ifPresent(t -> calls.add(new Call(t.id(), t.name(),
            Api.JSON.valueToTree(t._input().convert(Map.class)))));
      }
      String finish = m.stopReason().map(r -> switch (r.asString()) {
        case "end_turn", "stop_sequence" -> "stop";
        case "max_tokens" -> "length";
        case "tool_use" -> "tool_calls";
        default -> r.asString();
      }).orElse(null);
      return new Reply(text.toString(), calls, finish, m.usage().inputTokens(), m.usage().outputTokens(),
          m.usage().cacheCreationInputTokens().orElse(0L), m.usage().cacheReadInputTokens().orElse(0L));
    }

    /** {@code POST /v1/messages/count_tokens} for the user message. */
    long countTokens(String model) {
      return sdk.messages().countTokens(com.anthropic.models.messages.MessageCountTokensParams.builder().model(model)
          .system("You are terse.").addUserMessage(USER_TEXT).build()).inputTokens();
    }

    /** The beta Messages call ({@code POST /v1/messages?beta=true}), as Claude Code makes it. */
    BetaMessage sendBeta(String model, String beta) {
      return sdk.beta().messages().create(com.anthropic.models.beta.messages.MessageCreateParams.builder()
          .model(model).maxTokens(DEFAULT_MAX_TOKENS).addUserMessage(USER_TEXT).addBeta(beta).build());
    }

    @Override
    Failure fail(Ask ask) {
      try {
        send(ask);
      } catch (AnthropicServiceException e) {
        return new Failure(e, e.statusCode(), e.errorType().map(t -> t.asString()).orElse(null),
            String.valueOf(e.getMessage()));
      }
      throw new AssertionError("the request succeeded");
    }

    @Override
    StreamFailure failStreaming(Ask ask) {
      int content = 0;
      try (com.anthropic.core.http.StreamResponse<RawMessageStreamEvent> s =
               sdk.messages().createStreaming(params(ask))) {
        Iterator<RawMessageStreamEvent> it = s.stream().iterator();
        while (it.hasNext()) {
          content += it.next().isContentBlockDelta() ? 1 : 0;
        }
      } catch (AnthropicServiceException e) {
        return new StreamFailure(e, e.errorType().map(t -> t.asString()).orElse(null), content);
      }
      throw new AssertionError("the stream ended without an error after " + content + " deltas");
    }

    @Override
    int readThenCancel(Ask ask, int deltas) {
      int content = 0;
      try (com.anthropic.core.http.StreamResponse<RawMessageStreamEvent> s =
               sdk.messages().createStreaming(params(ask))) {
        Iterator<RawMessageStreamEvent> it = s.stream().iterator();
        while (content < deltas && it.hasNext()) {
          content += it.next().isContentBlockDelta() ? 1 : 0;
        }
      }
      return content;
    }

    @Override
    HttpResponse<String> raw(Ask ask) {
      StringBuilder body = new StringBuilder("{\"model\":\"").append(ask.model).append("\",\"max_tokens\":")
          .append(DEFAULT_MAX_TOKENS).append(",\"messages\":[{\"role\":\"user\",\"content\":\"").append(USER_TEXT)
          .append("\"}]");
      if (ask.stream) {
        body.append(",\"stream\":true");
      }
      if (ask.toolChoice == ToolChoice.NAMED) {
        body.append(",\"tools\":[{\"name\":\"").append(ask.toolName).append("\",\"input_schema\":")
            .append(timeSchema()).append("}],\"tool_choice\":{\"type\":\"tool\",\"name\":\"").append(ask.toolName)
            .append("\"}");
      }
      return Api.send("POST", base + "/v1/messages", Map.of("x-api-key", key, "anthropic-version", "2023-06-01"),
          body.append('}').toString());
    }

    @Override
    public void close() {
      sdk.close();
    }
  }
}
