package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.embeddings.EmbeddingCreateParams;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI SDK, pointed at Sluice, works unchanged: chat, streaming, embeddings, errors. */
class OpenAiSdkIT {
  private static MockUpstream mock;
  private static SluiceNode node;
  private static OpenAIClient client;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("sdk");
    node = SluiceNode.start("sdk", Fixtures.models(mock));
    String key = Api.tenantWithKey(node, Fixtures.tenant("sdk"), null);
    client = OpenAIOkHttpClient.builder().apiKey(key).baseUrl(node.url("/v1")).maxRetries(0).build();
  }

  @AfterAll
  static void stop() {
    if (client != null) client.close();
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  private static ChatCompletionCreateParams params(String model) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage("Say hello to the gateway").build();
  }

  @Test
  void sdkChat_nonStreaming_returnsCompletionWithUsage() {
    ChatCompletion completion = client.chat().completions().create(params("gpt-4o-mini"));
    assertEquals("gpt-4o-mini", completion.model());
    assertTrue(completion.choices().get(0).message().content().orElse("").length() > 0);
    assertTrue(completion.usage().orElseThrow().totalTokens() > 0);
  }

  @Test
  void sdkChat_streaming_deliversChunks() {
    AtomicInteger content = new AtomicInteger();
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params("gpt-4o-mini"))) {
      stream.stream().forEach(chunk -> chunk.choices().forEach(c -> c.delta().content().ifPresent(s -> content.incrementAndGet())));
    }
    assertTrue(content.get() > 1, "content chunks: " + content.get());
  }

  @Test
  void sdkEmbeddings_returnsVector() {
    var result = client.embeddings().create(EmbeddingCreateParams.builder()
        .model("text-embedding-3-small").input("hello").build());
    assertEquals(1, result.data().size());
  }

  @Test
  void sdkErrors_mapToSdkExceptions() {
    assertThrows(NotFoundException.class, () -> client.chat().completions().create(params("no-such-model")));
    OpenAIClient bad = OpenAIOkHttpClient.builder().apiKey("sk-sluice.nobody.xxxxxxxxxxxxxxxxxxxxxxxxxx")
        .baseUrl(node.url("/v1")).maxRetries(0).build();
    try {
      assertThrows(UnauthorizedException.class, () -> bad.chat().completions().create(params("gpt-4o-mini")));
    } finally {
      bad.close();
    }
  }
}
