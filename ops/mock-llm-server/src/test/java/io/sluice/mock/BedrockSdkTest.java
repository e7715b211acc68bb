package io.sluice.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.document.Document;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;
import software.amazon.awssdk.services.bedrockruntime.model.ContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.ContentBlockDeltaEvent;
import software.amazon.awssdk.services.bedrockruntime.model.ContentBlockStartEvent;
import software.amazon.awssdk.services.bedrockruntime.model.ConversationRole;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseResponse;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseStreamMetadataEvent;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseStreamOutput;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseStreamResponseHandler;
import software.amazon.awssdk.services.bedrockruntime.model.ImageBlock;
import software.amazon.awssdk.services.bedrockruntime.model.ImageFormat;
import software.amazon.awssdk.services.bedrockruntime.model.ImageSource;
import software.amazon.awssdk.services.bedrockruntime.model.Message;
import software.amazon.awssdk.services.bedrockruntime.model.MessageStopEvent;
import software.amazon.awssdk.services.bedrockruntime.model.ModelStreamErrorException;
import software.amazon.awssdk.services.bedrockruntime.model.StopReason;
import software.amazon.awssdk.services.bedrockruntime.model.ThrottlingException;
import software.amazon.awssdk.services.bedrockruntime.model.Tool;
import software.amazon.awssdk.services.bedrockruntime.model.ToolChoice;
import software.amazon.awssdk.services.bedrockruntime.model.ToolConfiguration;
import software.amazon.awssdk.services.bedrockruntime.model.ToolInputSchema;
import software.amazon.awssdk.services.bedrockruntime.model.ToolSpecification;
import software.amazon.awssdk.services.bedrockruntime.model.ValidationException;
import software.amazon.awssdk.services.bedrockruntime.model.BedrockRuntimeException;
import software.amazon.awssdk.services.bedrockruntime.model.AnyToolChoice;

/**
 * The Bedrock mode as the official AWS SDK's Bedrock runtime client sees it: the client signs with
 * SigV4 (the mock verifies it), sends the model id as the SDK encodes it, and must parse every answer,
 * stream and error.
 */
class BedrockSdkTest {
  private static final String MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0";
  private MockLlmServer server;

  @BeforeEach
  void start() {
    server = MockLlmServer.start(MockSettings.defaults().withPort(0).withTokens(3));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private BedrockRuntimeClient client(String secret) {
    return BedrockRuntimeClient.builder().region(Region.US_EAST_1)
        .endpointOverride(URI.create("http://127.0.0.1:" + server.port()))
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(BedrockMode.DEFAULT_ACCESS_KEY_ID, secret)))
        .build();
  }

  private BedrockRuntimeAsyncClient asyncClient() {
    // The mock speaks HTTP/1.1 only; the async client would otherwise try HTTP/2 with prior knowledge.
    return BedrockRuntimeAsyncClient.builder().region(Region.US_EAST_1)
        .httpClientBuilder(software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient.builder()
            .protocol(software.amazon.awssdk.http.Protocol.HTTP1_1))
        .endpointOverride(URI.create("http://127.0.0.1:" + server.port()))
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(BedrockMode.DEFAULT_ACCESS_KEY_ID, BedrockMode.DEFAULT_SECRET_ACCESS_KEY)))
        .build();
  }

  private static Message user(String text) {
    return Message.builder().role(ConversationRole.USER).content(ContentBlock.fromText(text)).build();
  }

  private void configure(String json) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.port() + "/mock/config"))
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
  }

  @Test
  void converse_signedText_parsedWithUsage() {
    try (BedrockRuntimeClient c = client(BedrockMode.DEFAULT_SECRET_ACCESS_KEY)) {
      ConverseResponse r = c.converse(b -> b.modelId(MODEL).messages(user("Hello there"))
          .system(s -> s.text("Be brief.")));
      assertEquals("tok tok tok ", r.output().message().content().get(0).text());
      assertEquals(StopReason.END_TURN, r.stopReason());
      // (11 + 9 bytes) / 4 + 3 per message
      assertEquals(8, r.usage().inputTokens());
      assertEquals(3, r.usage().outputTokens());
    }
  }

  @Test
  void converse_toolChoiceAnyWithImage_toolUseWithSchemaInput() {
    ToolSpecification spec = ToolSpecification.builder().name("get_weather").description("weather")
        .inputSchema(ToolInputSchema.fromJson(Document.mapBuilder()
            .putString("type", "object")
            .putDocument("properties", Document.mapBuilder()
                .putDocument("city", Document.mapBuilder().putString("type", "string").build()).build())
            .build()))
        .build();
    Message withImage = Message.builder().role(ConversationRole.USER).content(ContentBlock.fromText("What is it?"),
        ContentBlock.fromImage(ImageBlock.builder().format(ImageFormat.PNG)
            .source(ImageSource.fromBytes(SdkBytes.fromByteArray(new byte[] {(byte) 0x89, 'P', 'N', 'G'}))).build()))
        .build();
    try (BedrockRuntimeClient c = client(BedrockMode.DEFAULT_SECRET_ACCESS_KEY)) {
      ConverseResponse r = c.converse(b -> b.modelId(MODEL).messages(withImage)
          .toolConfig(ToolConfiguration.builder().tools(Tool.fromToolSpec(spec))
              .toolChoice(ToolChoice.fromAny(AnyToolChoice.builder().build())).build()));
      assertEquals(StopReason.TOOL_USE, r.stopReason());
      ContentBlock use = r.output().message().content().get(0);
      assertEquals("get_weather", use.toolUse().name());
      assertEquals("mock", use.toolUse().input().asMap().get("city").asString());
      assertEquals(2 + 3 + 100, r.usage().inputTokens(), "an image adds 100 input tokens");
    }
  }

  @Test
  void converse_wrongSecret_signatureRefused() {
    try (BedrockRuntimeClient c = client("not-the-secret")) {
      BedrockRuntimeException e = assertThrows(BedrockRuntimeException.class,
          () -> c.converse(b -> b.modelId(MODEL).messages(user("hi"))));
      assertEquals(403, e.statusCode());
      assertEquals("InvalidSignatureException", e.awsErrorDetails().errorCode());
      assertTrue(e.getMessage().contains("signature we calculated does not match"), e.getMessage());
    }
  }

  @Test
  void converse_statusKnob_typedExceptions() throws Exception {
    configure("{\"script\":[429, 400]}");
    try (BedrockRuntimeClient c = BedrockRuntimeClient.builder().region(Region.US_EAST_1)
        .endpointOverride(URI.create("http://127.0.0.1:" + server.port()))
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(BedrockMode.DEFAULT_ACCESS_KEY_ID, BedrockMode.DEFAULT_SECRET_ACCESS_KEY)))
        .overrideConfiguration(o -> o.retryStrategy(b -> b.maxAttempts(1))).build()) {
      assertThrows(ThrottlingException.class, () -> c.converse(b -> b.modelId(MODEL).messages(user("hi"))));
      assertThrows(ValidationException.class, () -> c.converse(b -> b.modelId(MODEL).messages(user("hi"))));
    }
  }

  @Test
  void converseStream_textAndToolAndMetadata_eventsInOrder() throws Exception {
    configure("{\"mock\":{\"tool_use\":true,\"usage\":{\"cache_read_input_tokens\":5}}}");
    List<ConverseStreamOutput> events = new ArrayList<>();
    ToolSpecification spec = ToolSpecification.builder().name("now")
        .inputSchema(ToolInputSchema.fromJson(Document.mapBuilder().putString("type", "object").build())).build();
    try (BedrockRuntimeAsyncClient c = asyncClient()) {
      c.converseStream(b -> b.modelId(MODEL).messages(user("stream please"))
              .toolConfig(ToolConfiguration.builder().tools(Tool.fromToolSpec(spec)).build()),
          ConverseStreamResponseHandler.builder().subscriber(events::add).build()).get(30, TimeUnit.SECONDS);
    }
    StringBuilder text = new StringBuilder();
    StringBuilder input = new StringBuilder();
    for (ConverseStreamOutput e : events) {
      if (e instanceof ContentBlockDeltaEvent d) {
        if (d.delta().text() != null) {
          text.append(d.delta().text());
        } else {
          input.append(d.delta().toolUse().input());
        }
      }
    }
    assertEquals("tok tok tok ", text.toString());
    assertEquals("{}", input.toString());
    assertEquals("now", events.stream().filter(ContentBlockStartEvent.class::isInstance)
        .map(e -> ((ContentBlockStartEvent) e).start().toolUse().name()).findFirst().orElseThrow());
    assertEquals(StopReason.TOOL_USE, events.stream().filter(MessageStopEvent.class::isInstance)
        .map(e -> ((MessageStopEvent) e).stopReason()).findFirst().orElseThrow());
    ConverseStreamMetadataEvent meta = (ConverseStreamMetadataEvent) events.get(events.size() - 1);
    assertEquals(4, meta.usage().outputTokens(), "three text deltas and one tool-input delta");
    assertEquals(5, meta.usage().cacheReadInputTokens());
  }

  @Test
  void converseStream_errorAfterTokens_exceptionFrameSurfacesAsTypedException() throws Exception {
    configure("{\"mock\":{\"error_after_tokens\":1}}");
    List<ConverseStreamOutput> events = new ArrayList<>();
    try (BedrockRuntimeAsyncClient c = asyncClient()) {
      CompletionException e = assertThrows(CompletionException.class, () -> c.converseStream(
          b -> b.modelId(MODEL).messages(user("hi")),
          ConverseStreamResponseHandler.builder().subscriber(events::add).build()).join());
      assertInstanceOf(ModelStreamErrorException.class, e.getCause());
    }
    assertEquals(1, events.stream().filter(ContentBlockDeltaEvent.class::isInstance).count());
  }
}
