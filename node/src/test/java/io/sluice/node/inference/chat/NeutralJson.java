package io.sluice.node.inference.chat;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The neutral chat model as readable JSON, for golden files only: each {@link Part} and
 * {@link ChatEvent} is tagged with its kind so it reads back as the same record. Shared by the
 * providers' golden tests.
 */
public final class NeutralJson {
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
  @JsonSubTypes({
      @JsonSubTypes.Type(value = Part.Text.class, name = "text"),
      @JsonSubTypes.Type(value = Part.Image.class, name = "image"),
      @JsonSubTypes.Type(value = Part.ToolCall.class, name = "tool_call"),
      @JsonSubTypes.Type(value = Part.ToolResult.class, name = "tool_result")})
  interface PartMixin {}

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "event")
  @JsonSubTypes({
      @JsonSubTypes.Type(value = ChatEvent.Started.class, name = "started"),
      @JsonSubTypes.Type(value = ChatEvent.TextDelta.class, name = "text"),
      @JsonSubTypes.Type(value = ChatEvent.ToolCallStarted.class, name = "tool_call_started"),
      @JsonSubTypes.Type(value = ChatEvent.ToolArgumentsDelta.class, name = "tool_arguments"),
      @JsonSubTypes.Type(value = ChatEvent.Finished.class, name = "finished"),
      @JsonSubTypes.Type(value = ChatEvent.UsageReported.class, name = "usage"),
      @JsonSubTypes.Type(value = ChatEvent.Failed.class, name = "failed")})
  interface EventMixin {}

  public static final ObjectMapper MAPPER = new ObjectMapper()
      .addMixIn(Part.class, PartMixin.class)
      .addMixIn(ChatEvent.class, EventMixin.class)
      .enable(SerializationFeature.INDENT_OUTPUT);

  private NeutralJson() {}

  public static String write(Object value) {
    try {
      var writer = value instanceof List<?> ? MAPPER.writerFor(new TypeReference<List<ChatEvent>>() {})
          : MAPPER.writer();
      return writer.writeValueAsString(value).replace("\r\n", "\n") + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ChatRequest request(String json) {
    return read(json, ChatRequest.class);
  }

  public static ChatResponse response(String json) {
    return read(json, ChatResponse.class);
  }

  public static List<ChatEvent> events(String json) {
    try {
      return MAPPER.readValue(json, new TypeReference<List<ChatEvent>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> T read(String json, Class<T> type) {
    try {
      return MAPPER.readValue(json, type);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
