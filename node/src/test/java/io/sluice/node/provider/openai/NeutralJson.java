package io.sluice.node.provider.openai;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.deser.std.JsonNodeDeserializer;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.Part;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The neutral chat model as readable JSON, for golden files only: each part and event is tagged
 * with its record's name, nulls are written, output is indented. Reads back what it writes.
 */
final class NeutralJson {
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
  @JsonSubTypes({
      @JsonSubTypes.Type(value = Part.Text.class, name = "Text"),
      @JsonSubTypes.Type(value = Part.Image.class, name = "Image"),
      @JsonSubTypes.Type(value = Part.ToolCall.class, name = "ToolCall"),
      @JsonSubTypes.Type(value = Part.ToolResult.class, name = "ToolResult")})
  interface PartTags {}

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
  @JsonSubTypes({
      @JsonSubTypes.Type(value = ChatEvent.Started.class, name = "Started"),
      @JsonSubTypes.Type(value = ChatEvent.TextDelta.class, name = "TextDelta"),
      @JsonSubTypes.Type(value = ChatEvent.ToolCallStarted.class, name = "ToolCallStarted"),
      @JsonSubTypes.Type(value = ChatEvent.ToolArgumentsDelta.class, name = "ToolArgumentsDelta"),
      @JsonSubTypes.Type(value = ChatEvent.Finished.class, name = "Finished"),
      @JsonSubTypes.Type(value = ChatEvent.UsageReported.class, name = "UsageReported"),
      @JsonSubTypes.Type(value = ChatEvent.Failed.class, name = "Failed")})
  interface EventTags {}

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .addMixIn(Part.class, PartTags.class)
      .addMixIn(ChatEvent.class, EventTags.class)
      .enable(SerializationFeature.INDENT_OUTPUT)
      .addModule(new SimpleModule().addDeserializer(JsonNode.class, new NullableTree()))
      .build();

  /** A tool without parameters holds null, where Jackson would read JSON null as a NullNode. */
  private static final class NullableTree extends StdDeserializer<JsonNode> {
    NullableTree() {
      super(JsonNode.class);
    }

    @Override
    public JsonNode deserialize(JsonParser p, DeserializationContext c) throws IOException {
      return JsonNodeDeserializer.getDeserializer(JsonNode.class).deserialize(p, c);
    }

    @Override
    public JsonNode getNullValue(DeserializationContext c) {
      return null;
    }
  }

  private NeutralJson() {}

  static String write(Object neutral) {
    try {
      // A list is a stream's events; its element type is named so that each one gets its tag.
      return (neutral instanceof List<?> ? MAPPER.writerFor(new TypeReference<List<ChatEvent>>() {})
          : MAPPER.writerFor(neutral.getClass())).writeValueAsString(neutral) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ChatRequest request(String json) {
    return read(json, ChatRequest.class);
  }

  static ChatResponse response(String json) {
    return read(json, ChatResponse.class);
  }

  static List<ChatEvent> events(String json) {
    try {
      return MAPPER.readValue(json.getBytes(StandardCharsets.UTF_8), new TypeReference<List<ChatEvent>>() {});
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
