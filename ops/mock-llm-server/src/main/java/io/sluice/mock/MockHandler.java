package io.sluice.mock;

import static io.netty.handler.codec.http.HttpResponseStatus.OK;
import static io.netty.handler.codec.http.HttpVersion.HTTP_1_1;
import static java.util.concurrent.TimeUnit.MILLISECONDS;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One per connection: routes each request, applies the configured or per-request delays and failures
 * with the event loop's timer (never blocking), and streams chunks one flush at a time. Requests that
 * arrive while a response is still pending (HTTP pipelining) wait in a queue so that responses keep
 * the order of requests. Everything here runs on the connection's event loop, so it needs no locks.
 */
final class MockHandler extends ChannelInboundHandlerAdapter {
  private static final String REQUEST_ID = "request-id";
  private static final java.util.regex.Pattern GEMINI_PATH = java.util.regex.Pattern.compile(
      "/v1(?:beta1?)?/(?:models|projects/[^/]+/locations/[^/]+/publishers/google/models|publishers/google/models)"
          + "/[^/:]+:(?:generateContent|streamGenerateContent)");
  private static final int RATE_LIMIT_REQUESTS = 4000;
  private static final int RATE_LIMIT_TOKENS = 400_000;
  /** Counts of what a Messages request held, so tests can check what a gateway translated; see AnthropicRequest#summary. */
  static final String REQUEST_SUMMARY = "x-mock-request-summary";
  private final ServerState state;
  private final ArrayDeque<Exchange> pending = new ArrayDeque<>(2);
  private ChannelHandlerContext ctx;
  /** The request being answered, null when idle. */
  private Exchange current;

  MockHandler(ServerState state) {
    this.state = state;
  }

  private enum Route {
    CHAT, EMBEDDINGS, COMPLETIONS, RESPONSES, MESSAGES, COUNT_TOKENS, GEMINI, CONVERSE, MODELS, STATS, RESET, CONFIG, LAST_REQUEST, NOT_FOUND, BAD_METHOD, BAD_HTTP;

    static Route of(HttpMethod m, String path) {
      if (BedrockMode.isConverse(path)) {
        return m == HttpMethod.POST ? CONVERSE : BAD_METHOD;
      }
      return switch (path) {
        case "/v1/chat/completions" -> m == HttpMethod.POST ? CHAT : BAD_METHOD;
        case "/v1/embeddings" -> m == HttpMethod.POST ? EMBEDDINGS : BAD_METHOD;
        case "/v1/completions" -> m == HttpMethod.POST ? COMPLETIONS : BAD_METHOD;
        case "/v1/responses" -> m == HttpMethod.POST ? RESPONSES : BAD_METHOD;
        case "/v1/messages" -> m == HttpMethod.POST ? MESSAGES : BAD_METHOD;
        case "/v1/messages/count_tokens" -> m == HttpMethod.POST ? COUNT_TOKENS : BAD_METHOD;
        case "/v1/models" -> m == HttpMethod.GET ? MODELS : BAD_METHOD;
        case "/mock/stats" -> m == HttpMethod.GET ? STATS : BAD_METHOD;
        case "/mock/reset" -> m == HttpMethod.POST ? RESET : BAD_METHOD;
        case "/mock/config" -> m == HttpMethod.POST ? CONFIG : BAD_METHOD;
        case "/mock/last-request" -> m == HttpMethod.GET ? LAST_REQUEST : BAD_METHOD;
        default -> geminiPath(path) ? (m == HttpMethod.POST ? GEMINI : BAD_METHOD) : NOT_FOUND;
      };
    }

    /**
     * A Gemini generateContent path, under any of the API's versions (v1, v1beta, v1beta1): AI
     * Studio's {@code /v1beta/models/M:…}, Vertex's {@code /v1/projects/P/locations/L/publishers/
     * google/models/M:…} or express mode's {@code /v1/publishers/google/models/M:…}.
     */
    static boolean geminiPath(String path) {
      return GEMINI_PATH.matcher(path).matches();
    }
  }

  /** One request, copied out of Netty's buffers on arrival, plus its streaming progress. */
  private final class Exchange {
    final HttpMethod method;
    final String path;
    final boolean http10;
    final boolean keepAlive;
    final String authorization;
    final byte[] body;
    final Route route;
    final boolean inference;
    /** A Messages-mode path: answered in Anthropic's envelope, with its headers read below. */
    final boolean anthropic;
    /** A Gemini-mode path: answered in Google's envelope; {@code apiKey} is its x-goog-api-key. */
    final boolean gemini;
    final String query;
    final String apiKey;
    final String anthropicVersion;
    final String anthropicBeta;
    /** The Azure form of the path (served as its OpenAI path), or null. */
    final AzurePath azure;
    /** The query string and Azure's api-key header, as recorded for an OpenAI-mode request. */
    final String rawQuery;
    final String azureKey;
    /** Converse: every request header (the signature covers any of them). */
    final io.netty.handler.codec.http.HttpHeaders headers;
    /** Converse: the encoded event-stream frames still to write. */
    java.util.Iterator<BedrockMode.Frame> frames;
    private boolean left;
    ScheduledFuture<?> timer;
    // streaming state
    boolean stream;
    boolean headersSent;
    String head;
    int tokens;
    int sent;
    int failAfter;
    long interTokenMs;
    boolean includeUsage;
    int promptTokens;
    long completionTokens;
    AnthropicReply reply;
    ResponsesReply responsesReply;
    /** OpenAI mode: text tokens before the tool call (when there is one), the call and its finish reason. */
    int textTokens;
    AnthropicRequest.Tool tool;
    String toolId;
    String finishReason = "stop";
    GeminiReply geminiReply;
    String summary;
    int errorAfter;
    String errorType;
    /** Seconds for the Retry-After of a 429: the {@code retry_after} knob, else 1. */
    long retryAfter = 1;

    Exchange(FullHttpRequest req) {
      method = req.method();
      String uri = req.uri();
      int q = uri.indexOf('?');
      path = q < 0 ? uri : uri.substring(0, q);
      http10 = req.protocolVersion() == HttpVersion.HTTP_1_0;
      boolean decoded = req.decoderResult().isSuccess();
      keepAlive = decoded && HttpUtil.isKeepAlive(req);
      authorization = req.headers().get(HttpHeaderNames.AUTHORIZATION);
      body = ByteBufUtil.getBytes(req.content());
      rawQuery = q < 0 ? null : uri.substring(q + 1);
      azure = AzurePath.parse(path, rawQuery);
      azureKey = req.headers().get("api-key");
      route = decoded ? Route.of(method, azure != null ? azure.openAiPath() : path) : Route.BAD_HTTP;
      anthropic = path.startsWith("/v1/messages");
      gemini = route == Route.GEMINI;
      if (gemini) {
        query = q < 0 ? null : uri.substring(q + 1);
        apiKey = req.headers().get("x-goog-api-key");
        anthropicVersion = anthropicBeta = null;
      } else if (anthropic) {
        query = q < 0 ? null : uri.substring(q + 1);
        apiKey = req.headers().get("x-api-key");
        anthropicVersion = req.headers().get("anthropic-version");
        anthropicBeta = req.headers().get("anthropic-beta");
      } else {
        query = apiKey = anthropicVersion = anthropicBeta = null;
      }
      headers = route == Route.CONVERSE ? req.headers().copy() : null;
      inference = route == Route.CHAT || route == Route.EMBEDDINGS || route == Route.MESSAGES
          || route == Route.COUNT_TOKENS || route == Route.COMPLETIONS || route == Route.RESPONSES
          || route == Route.GEMINI || route == Route.CONVERSE;
      if (inference) {
        state.stats.arrived();
      }
    }

    /** Ends this request's in-flight span; idempotent. */
    void leave() {
      if (inference && !left) {
        left = true;
        state.stats.left();
      }
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest req)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    Exchange ex;
    try {
      ex = new Exchange(req);
    } finally {
      req.release();
    }
    if (current == null) {
      start(ex);
    } else {
      pending.add(ex);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Exchange ex = current;
    current = null;
    if (ex != null) {
      if (ex.timer != null) {
        ex.timer.cancel(false);
      }
      if (ex.stream) {
        state.stats.streamCancelled();
      }
      ex.leave();
    }
    for (Exchange p; (p = pending.poll()) != null; ) {
      p.leave();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // typically a reset by the peer; channelInactive does the bookkeeping
  }

  private void start(Exchange ex) {
    current = ex;
    switch (ex.route) {
      case CHAT, EMBEDDINGS, COMPLETIONS -> inference(ex);
      case RESPONSES -> responses(ex);
      case MESSAGES, COUNT_TOKENS -> messages(ex);
      case GEMINI -> gemini(ex);
      case CONVERSE -> converse(ex);
      case MODELS -> {
        if (authorized(ex)) {
          json(ex, OK, Payloads.MODELS);
        }
      }
      case STATS -> json(ex, OK, state.stats.toJson());
      case RESET -> {
        state.stats.reset();
        state.last = null;
        state.clearOverrides();
        json(ex, OK, state.stats.toJson());
      }
      case CONFIG -> {
        try {
          state.configure(ex.body);
          json(ex, OK, "{\"ok\":true}");
        } catch (IOException | RuntimeException e) {
          error(ex, 400, "Bad mock config: " + e.getMessage(), null, null);
        }
      }
      case LAST_REQUEST -> {
        ServerState.Recorded last = state.last;
        if (last == null) {
          error(ex, 404, "No inference request received yet.", null, null);
        } else {
          json(ex, OK, last.toJson());
        }
      }
      case BAD_METHOD -> anyError(ex, 405, "Method " + ex.method + " not allowed on " + ex.path + ".", null, null);
      case NOT_FOUND -> anyError(ex, 404, "Invalid URL (" + ex.method + " " + ex.path + ")", null, null);
      case BAD_HTTP -> error(ex, 400, "Malformed HTTP request.", null, null);
    }
  }

  private void inference(Exchange ex) {
    state.last = new ServerState.Recorded(ex.method.name(), ex.path, ex.authorization, ex.body, null, null,
        ex.rawQuery, ex.azureKey);
    if (!authorized(ex)) {
      return;
    }
    MockRequest r;
    try {
      r = MockRequest.parse(state.json, ex.body, state.defaults);
    } catch (MockRequest.Invalid e) {
      error(ex, 400, e.getMessage(), e.param, e.code);
      return;
    } catch (IOException e) {
      error(ex, 400, "We could not parse the JSON body of your request. (The OpenAI API expects a JSON payload.)",
          null, null);
      return;
    }
    if (r.model == null && ex.azure != null) {
      r.model = ex.azure.deployment(); // Azure's deployments form names the model in the URL
    }
    String missing = r.model == null ? "model" : ex.route == Route.CHAT ? (r.messages < 0 ? "messages" : null)
        : (r.inputs < 0 ? (ex.route == Route.COMPLETIONS ? "prompt" : "input") : null);
    if (missing != null) {
      error(ex, 400, "Missing required parameter: '" + missing + "'.", missing, "missing_required_parameter");
      return;
    }

    MockSettings s = state.settings;
    boolean stream = ex.route != Route.EMBEDDINGS && r.stream;
    long baseLatency = state.latencyMs >= 0 ? state.latencyMs : s.latencyMs();
    long delay = stream ? pick(r.ttftMs, s.ttftMs()) : pick(r.latencyMs, baseLatency);
    int status = status(r);
    ex.retryAfter = pick(r.retryAfter, 1);
    if (status != 200) {
      later(ex, delay, () -> error(ex, status, "Mock upstream failure (status " + status + ").", null, null));
      return;
    }
    if (ex.route == Route.EMBEDDINGS) {
      later(ex, delay, () -> json(ex, OK, Payloads.embeddings(r)));
      return;
    }
    int tokens = r.tokens >= 0 ? r.tokens : s.tokens();
    boolean completions = ex.route == Route.COMPLETIONS;
    AnthropicRequest.Tool tool;
    try {
      tool = completions ? null : r.chosenTool();
    } catch (MockRequest.Invalid e) {
      error(ex, 400, e.getMessage(), e.param, e.code);
      return;
    }
    // A tool call replaces the text; max_tokens bounds the deltas: text beyond it is cut, a call that
    // does not fit is dropped, and the finish reason is then "length". The legacy completions mode
    // has neither: it sends its tokens and stops.
    int text = tool != null ? 0 : tokens;
    String finish = tool != null ? "tool_calls" : "stop";
    if (!completions && r.maxTokens >= 0 && text > r.maxTokens) {
      text = (int) r.maxTokens;
      finish = "length";
    } else if (tool != null && r.maxTokens >= 0 && tool.inputPieces().size() > r.maxTokens) {
      tool = null;
      finish = "length";
    }
    int deltas = text + (tool == null ? 0 : tool.inputPieces().size());
    String id = state.nextCompletionId();
    String toolId = tool == null ? null : "call_mock_" + state.nextId();
    long created = System.currentTimeMillis() / 1000;
    int promptTokens = r.usageInput >= 0 ? (int) r.usageInput
        : completions ? (int) Math.min(Integer.MAX_VALUE, r.inputTokens) : r.promptTokens();
    long completionTokens = r.usageOutput >= 0 ? r.usageOutput : deltas;
    if (!stream) {
      AnthropicRequest.Tool called = tool;
      int textTokens = text;
      String finishReason = finish;
      later(ex, delay, () -> json(ex, OK, completions
          ? CompletionsPayloads.completion(id.replace("chatcmpl-", "cmpl-"), created, r.model, textTokens,
              promptTokens, completionTokens)
          : Payloads.chatCompletion(id, created, r.model, textTokens, called, toolId, finishReason, promptTokens,
              completionTokens)));
      return;
    }
    ex.stream = true;
    ex.head = completions ? CompletionsPayloads.chunkHead(id.replace("chatcmpl-", "cmpl-"), created, r.model)
        : Payloads.chunkHead(id, created, r.model);
    ex.tokens = deltas;
    ex.textTokens = text;
    ex.tool = tool;
    ex.toolId = toolId;
    ex.finishReason = finish;
    ex.failAfter = r.failAfterTokens;
    ex.interTokenMs = pick(r.interTokenMs, s.interTokenMs());
    ex.includeUsage = r.includeUsage;
    ex.promptTokens = promptTokens;
    ex.completionTokens = completionTokens;
    later(ex, delay, () -> streamStep(ex));
  }

  /** The status an inference request gets: its own knob, else the next scripted one, else by the error rate. */
  private int status(MockRequest r) {
    double errorRate = state.errorRate >= 0 ? state.errorRate : state.settings.errorRate();
    Integer scripted = state.script.poll();
    return r.status > 0 ? r.status
        : scripted != null ? scripted
        : errorRate > 0 && ThreadLocalRandom.current().nextDouble() < errorRate ? state.settings.errorStatus() : 200;
  }

  /**
   * {@code /v1/messages} and {@code /v1/messages/count_tokens}: the Anthropic Messages wire format, with
   * the same knobs, delays and failure injection as the OpenAI mode, and errors in Anthropic's envelope.
   */
  private void messages(Exchange ex) {
    ServerState.Recorded recorded = new ServerState.Recorded(ex.method.name(), ex.path, ex.authorization, ex.body,
        new ServerState.Recorded.Anthropic(ex.query, ex.apiKey, ex.anthropicVersion, ex.anthropicBeta, null));
    state.last = recorded;
    if (!anthropicAuthorized(ex)) {
      return;
    }
    if (ex.anthropicVersion == null || ex.anthropicVersion.isEmpty()) {
      anthropicError(ex, 400, "anthropic-version: header is required");
      return;
    }
    AnthropicRequest r;
    try {
      r = AnthropicRequest.parse(state.json, ex.body, state.defaults);
    } catch (MockRequest.Invalid e) {
      anthropicError(ex, 400, e.getMessage());
      return;
    } catch (IOException e) {
      anthropicError(ex, 400, "There was an error parsing the body of your request. Please make sure it is valid JSON.");
      return;
    }
    String summary = r.summary();
    state.last = recorded.withSummary(summary);
    boolean counting = ex.route == Route.COUNT_TOKENS;
    String missing = r.model == null ? "model" : r.messages < 0 ? "messages"
        : !counting && r.maxTokens < 0 ? "max_tokens" : null;
    if (missing != null) {
      anthropicError(ex, 400, missing + ": Field required");
      return;
    }
    MockRequest k = r.knobs;
    MockSettings s = state.settings;
    boolean stream = !counting && r.stream;
    long baseLatency = state.latencyMs >= 0 ? state.latencyMs : s.latencyMs();
    long delay = stream ? pick(k.ttftMs, s.ttftMs()) : pick(k.latencyMs, baseLatency);
    int status = status(k);
    ex.retryAfter = pick(k.retryAfter, 1);
    if (status != 200) {
      later(ex, delay, () -> anthropicError(ex, status, "Mock upstream failure (status " + status + ")."));
      return;
    }
    if (counting) {
      later(ex, delay, () -> finish(ex, anthropicResponse(ex, OK, "{\"input_tokens\":" + r.inputTokens() + "}", summary)));
      return;
    }
    long n = state.nextId();
    AnthropicReply reply;
    try {
      reply = new AnthropicReply("msg_mock_" + n, "toolu_mock_" + n, r, k.tokens >= 0 ? k.tokens : s.tokens());
    } catch (MockRequest.Invalid e) {
      anthropicError(ex, 400, e.getMessage());
      return;
    }
    if (!stream) {
      later(ex, delay, () -> finish(ex, anthropicResponse(ex, OK, reply.message(), summary)));
      return;
    }
    ex.stream = true;
    ex.reply = reply;
    ex.summary = summary;
    ex.failAfter = k.failAfterTokens;
    ex.errorAfter = k.errorAfterTokens;
    ex.errorType = k.errorType == null ? "overloaded_error" : k.errorType;
    ex.interTokenMs = pick(k.interTokenMs, s.interTokenMs());
    later(ex, delay, () -> messagesStep(ex));
  }

  /** Writes the next events of a Messages stream; reschedules itself while an inter-token delay applies. */
  private void messagesStep(Exchange ex) {
    AnthropicReply reply = ex.reply;
    if (!ex.headersSent) {
      ex.headersSent = true;
      HttpResponse res = new DefaultHttpResponse(HTTP_1_1, OK);
      res.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
          .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
          .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
          .set(REQUEST_ID, "req_mock_" + state.nextId())
          .set(REQUEST_SUMMARY, ex.summary);
      rateLimitHeaders(res, false);
      connectionHeader(ex, res);
      ctx.write(res);
    }
    while (current == ex) { // a failed write may have closed the connection under us
      if (reply.atDelta() && reply.deltas() == ex.failAfter) {
        dieMidStream(ex);
        return;
      }
      if (reply.atDelta() && reply.deltas() == ex.errorAfter) {
        String event = AnthropicReply.errorEvent(ex.errorType, "Mock upstream failure mid-stream (" + ex.errorType + ").");
        finish(ex, new DefaultLastHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), event)));
        return;
      }
      String event = reply.next();
      if (event == null) {
        finish(ex, LastHttpContent.EMPTY_LAST_CONTENT);
        return;
      }
      if (!reply.lastWasDelta()) {
        ctx.write(content(event));
        continue;
      }
      ctx.writeAndFlush(content(event));
      if (ex.interTokenMs > 0 && reply.deltas() < reply.totalDeltas()) {
        later(ex, ex.interTokenMs, () -> messagesStep(ex));
        return;
      }
    }
  }

  /**
   * {@code /v1/responses} and Azure's {@code /openai/v1/responses}: OpenAI's Responses API, JSON or
   * its event stream, with the same knobs, delays and failure injection as the chat mode, errors in
   * OpenAI's envelope, and the request's {@code x-mock-request-summary}.
   */
  private void responses(Exchange ex) {
    state.last = new ServerState.Recorded(ex.method.name(), ex.path, ex.authorization, ex.body, null, null,
        ex.rawQuery, ex.azureKey);
    if (!authorized(ex)) {
      return;
    }
    ResponsesModeRequest r;
    try {
      r = ResponsesModeRequest.parse(state.json, ex.body, state.defaults);
    } catch (MockRequest.Invalid e) {
      error(ex, 400, e.getMessage(), e.param, e.code);
      return;
    } catch (IOException e) {
      error(ex, 400, "We could not parse the JSON body of your request. (The OpenAI API expects a JSON payload.)",
          null, null);
      return;
    }
    String missing = r.model == null ? "model" : r.items < 0 && r.previousResponseId == null ? "input" : null;
    if (missing != null) {
      error(ex, 400, "Missing required parameter: '" + missing + "'.", missing, "missing_required_parameter");
      return;
    }
    MockRequest k = r.knobs;
    MockSettings s = state.settings;
    long baseLatency = state.latencyMs >= 0 ? state.latencyMs : s.latencyMs();
    long delay = r.stream ? pick(k.ttftMs, s.ttftMs()) : pick(k.latencyMs, baseLatency);
    int status = status(k);
    ex.retryAfter = pick(k.retryAfter, 1);
    if (status != 200) {
      later(ex, delay, () -> error(ex, status, "Mock upstream failure (status " + status + ").", null, null));
      return;
    }
    ResponsesReply reply;
    try {
      reply = new ResponsesReply(state.nextId(), r, k.tokens >= 0 ? k.tokens : s.tokens());
    } catch (MockRequest.Invalid e) {
      error(ex, 400, e.getMessage(), e.param, e.code);
      return;
    }
    String summary = r.summary();
    if (!r.stream) {
      later(ex, delay, () -> {
        DefaultFullHttpResponse res = response(ex, OK, reply.response());
        res.headers().set(REQUEST_SUMMARY, summary);
        finish(ex, res);
      });
      return;
    }
    ex.stream = true;
    ex.responsesReply = reply;
    ex.summary = summary;
    ex.failAfter = k.failAfterTokens;
    ex.errorAfter = k.errorAfterTokens;
    ex.errorType = k.errorType == null ? "server_error" : k.errorType;
    ex.interTokenMs = pick(k.interTokenMs, s.interTokenMs());
    later(ex, delay, () -> responsesStep(ex));
  }

  /** Writes the next events of a Responses stream; reschedules itself while an inter-token delay applies. */
  private void responsesStep(Exchange ex) {
    ResponsesReply reply = ex.responsesReply;
    if (!ex.headersSent) {
      ex.headersSent = true;
      HttpResponse res = new DefaultHttpResponse(HTTP_1_1, OK);
      res.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
          .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
          .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
          .set(REQUEST_SUMMARY, ex.summary);
      connectionHeader(ex, res);
      ctx.write(res);
    }
    while (current == ex) { // a failed write may have closed the connection under us
      if (reply.atDelta() && reply.deltas() == ex.failAfter) {
        dieMidStream(ex);
        return;
      }
      if (reply.atDelta() && reply.deltas() == ex.errorAfter) {
        String event = reply.errorEvent(ex.errorType, "Mock upstream failure mid-stream (" + ex.errorType + ").");
        finish(ex, new DefaultLastHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), event)));
        return;
      }
      String event = reply.next();
      if (event == null) {
        finish(ex, LastHttpContent.EMPTY_LAST_CONTENT);
        return;
      }
      if (!reply.lastWasDelta()) {
        ctx.write(content(event));
        continue;
      }
      ctx.writeAndFlush(content(event));
      if (ex.interTokenMs > 0 && reply.deltas() < reply.totalDeltas()) {
        later(ex, ex.interTokenMs, () -> responsesStep(ex));
        return;
      }
    }
  }

  /**
   * Azure's checks on its URL forms: the deployments form needs api-version (else Azure's 400), and
   * with a configured key the {@code api-key} header (or a bearer token) must carry it (else Azure's 401).
   */
  private boolean azureAuthorized(Exchange ex) {
    String key = state.settings.apiKey();
    if (key != null && !key.equals(ex.azureKey) && !state.requiredAuthorization.equals(ex.authorization)) {
      finish(ex, response(ex, HttpResponseStatus.UNAUTHORIZED, AzurePath.ACCESS_DENIED));
      return false;
    }
    if (ex.azure.missingVersion()) {
      finish(ex, response(ex, HttpResponseStatus.BAD_REQUEST, AzurePath.MISSING_VERSION));
      return false;
    }
    return true;
  }

  /**
   * A Gemini generateContent or streamGenerateContent path: the Gemini API's wire format, with the
   * same knobs, delays and failure injection as the other modes, and errors in Google's envelope.
   * A stream is SSE with {@code alt=sse} and a JSON array of the same responses without it.
   */
  private void gemini(Exchange ex) {
    ServerState.Recorded recorded = new ServerState.Recorded(ex.method.name(), ex.path, ex.authorization, ex.body,
        null, new ServerState.Recorded.Gemini(ex.query, ex.apiKey, null), null, null);
    state.last = recorded;
    String key = state.settings.apiKey();
    if (key != null && !key.equals(ex.apiKey) && !state.requiredAuthorization.equals(ex.authorization)) {
      if (ex.apiKey == null && ex.authorization == null) {
        geminiError(ex, 403, "Method doesn't allow unregistered callers (callers without established identity). "
            + "Please use API Key or other form of API consumer identity to call this API.", null);
      } else {
        geminiError(ex, 400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID");
      }
      return;
    }
    GeminiRequest r;
    try {
      r = GeminiRequest.parse(state.json, ex.body, state.defaults);
    } catch (MockRequest.Invalid e) {
      geminiError(ex, 400, e.getMessage(), null);
      return;
    } catch (IOException e) {
      geminiError(ex, 400, "Invalid JSON payload received.", null);
      return;
    }
    String summary = r.summary();
    state.last = new ServerState.Recorded(ex.method.name(), ex.path, ex.authorization, ex.body, null,
        new ServerState.Recorded.Gemini(ex.query, ex.apiKey, summary), null, null);
    MockRequest k = r.knobs;
    MockSettings s = state.settings;
    boolean stream = ex.path.endsWith(":streamGenerateContent");
    long baseLatency = state.latencyMs >= 0 ? state.latencyMs : s.latencyMs();
    long delay = stream ? pick(k.ttftMs, s.ttftMs()) : pick(k.latencyMs, baseLatency);
    int status = status(k);
    if (status != 200) {
      later(ex, delay, () -> geminiError(ex, status, "Mock upstream failure (status " + status + ").", null));
      return;
    }
    int slash = ex.path.lastIndexOf("/models/");
    String model = ex.path.substring(slash + "/models/".length(), ex.path.lastIndexOf(':'));
    GeminiReply reply;
    try {
      reply = new GeminiReply("mock-" + state.nextId(), model, r, k.tokens >= 0 ? k.tokens : s.tokens());
    } catch (MockRequest.Invalid e) {
      geminiError(ex, 400, e.getMessage(), null);
      return;
    }
    boolean sse = ex.query != null && java.util.Arrays.asList(ex.query.split("&")).contains("alt=sse");
    if (!stream || !sse) {
      String body = stream ? reply.array() : reply.whole();
      later(ex, delay, () -> {
        DefaultFullHttpResponse res = response(ex, OK, body);
        res.headers().set(REQUEST_SUMMARY, summary);
        finish(ex, res);
      });
      return;
    }
    ex.stream = true;
    ex.geminiReply = reply;
    ex.summary = summary;
    ex.failAfter = k.failAfterTokens;
    ex.errorAfter = k.errorAfterTokens;
    ex.interTokenMs = pick(k.interTokenMs, s.interTokenMs());
    later(ex, delay, () -> geminiStep(ex));
  }

  /** Writes the next events of a Gemini SSE stream; reschedules itself while an inter-token delay applies. */
  private void geminiStep(Exchange ex) {
    GeminiReply reply = ex.geminiReply;
    if (!ex.headersSent) {
      ex.headersSent = true;
      HttpResponse res = new DefaultHttpResponse(HTTP_1_1, OK);
      res.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
          .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
          .set(REQUEST_SUMMARY, ex.summary);
      connectionHeader(ex, res);
      ctx.write(res);
    }
    while (current == ex) { // a failed write may have closed the connection under us
      if (ex.sent == reply.events()) {
        finish(ex, LastHttpContent.EMPTY_LAST_CONTENT);
        return;
      }
      if (ex.sent == ex.failAfter) {
        dieMidStream(ex);
        return;
      }
      if (ex.sent == ex.errorAfter) {
        String event = GeminiReply.errorEvent(503, "Mock upstream failure mid-stream.");
        finish(ex, new DefaultLastHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), event)));
        return;
      }
      ctx.writeAndFlush(content(reply.event(ex.sent)));
      ex.sent++;
      if (ex.interTokenMs > 0 && ex.sent < reply.events()) {
        later(ex, ex.interTokenMs, () -> geminiStep(ex));
        return;
      }
    }
  }

  private void geminiError(Exchange ex, int code, String message, String reason) {
    finish(ex, response(ex, HttpResponseStatus.valueOf(code), GeminiReply.error(code, message, reason)));
  }

  /** {@code /model/{id}/converse} and {@code /converse-stream}: AWS Bedrock's Converse API, see {@link BedrockMode}. */
  private void converse(Exchange ex) {
    state.last = new ServerState.Recorded(ex.method.name(), ex.path, ex.authorization, ex.body);
    BedrockMode.Refusal refused = BedrockMode.authenticate(ex.path, ex.headers::get, ex.body, state.aws,
        state.settings.apiKey());
    if (refused != null) {
      awsError(ex, refused.status(), refused.errorType(), refused.message());
      return;
    }
    BedrockMode.Request r;
    try {
      r = BedrockMode.Request.parse(state.json, ex.body);
    } catch (MockRequest.Invalid e) {
      awsError(ex, 400, "ValidationException", e.getMessage());
      return;
    } catch (IOException e) {
      awsError(ex, 400, "SerializationException", "Unexpected character in the request body.");
      return;
    }
    MockRequest k = state.defaults == null ? new MockRequest() : state.defaults;
    MockSettings s = state.settings;
    boolean stream = ex.path.endsWith("/converse-stream");
    long delay = stream ? pick(k.ttftMs, s.ttftMs()) : pick(k.latencyMs, state.latencyMs >= 0 ? state.latencyMs : s.latencyMs());
    int status = status(k);
    ex.retryAfter = pick(k.retryAfter, 1);
    if (status != 200) {
      later(ex, delay, () -> awsError(ex, status, BedrockMode.errorType(status), "Mock upstream failure (status " + status + ")."));
      return;
    }
    BedrockMode.Reply reply = new BedrockMode.Reply(r, k, k.tokens >= 0 ? k.tokens : s.tokens(), "tooluse_mock_" + state.nextId());
    String summary = r.summary();
    if (!stream) {
      later(ex, delay, () -> {
        DefaultFullHttpResponse res = response(ex, OK, reply.whole());
        res.headers().set("x-amzn-RequestId", "mock-" + state.nextId()).set(REQUEST_SUMMARY, summary);
        finish(ex, res);
      });
      return;
    }
    ex.stream = true;
    ex.frames = reply.frames().iterator();
    ex.summary = summary;
    ex.failAfter = k.failAfterTokens;
    ex.errorAfter = k.errorAfterTokens;
    ex.errorType = k.errorType == null ? "modelStreamErrorException" : k.errorType;
    ex.interTokenMs = pick(k.interTokenMs, s.interTokenMs());
    later(ex, delay, () -> converseStep(ex));
  }

  /** Writes the next frames of a ConverseStream answer; reschedules itself while an inter-token delay applies. */
  private void converseStep(Exchange ex) {
    if (!ex.headersSent) {
      ex.headersSent = true;
      HttpResponse res = new DefaultHttpResponse(HTTP_1_1, OK);
      res.headers().set(HttpHeaderNames.CONTENT_TYPE, BedrockMode.EVENT_STREAM)
          .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
          .set("x-amzn-RequestId", "mock-" + state.nextId()).set(REQUEST_SUMMARY, ex.summary);
      connectionHeader(ex, res);
      ctx.write(res);
    }
    while (current == ex) { // a failed write may have closed the connection under us
      if (!ex.frames.hasNext()) {
        finish(ex, LastHttpContent.EMPTY_LAST_CONTENT);
        return;
      }
      BedrockMode.Frame f = ex.frames.next();
      if (f.delta() && ex.sent == ex.failAfter) {
        dieMidStream(ex);
        return;
      }
      if (f.delta() && ex.sent == ex.errorAfter) {
        BedrockMode.Frame e = BedrockMode.exception(ex.errorType, "Mock upstream failure mid-stream (" + ex.errorType + ").");
        finish(ex, new DefaultLastHttpContent(Unpooled.wrappedBuffer(e.bytes())));
        return;
      }
      if (!f.delta()) {
        ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(f.bytes())));
        continue;
      }
      ex.sent++;
      ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(f.bytes())));
      if (ex.interTokenMs > 0) {
        later(ex, ex.interTokenMs, () -> converseStep(ex));
        return;
      }
    }
  }

  /** An error as Bedrock answers one: {@code {"message"}} named by {@code x-amzn-ErrorType}. */
  private void awsError(Exchange ex, int code, String type, String message) {
    DefaultFullHttpResponse res = response(ex, HttpResponseStatus.valueOf(code), BedrockMode.errorBody(message));
    res.headers().set("x-amzn-ErrorType", type + ":http://internal.amazon.com/coral/com.amazon.bedrock/")
        .set("x-amzn-RequestId", "mock-" + state.nextId());
    if (code == 429) {
      res.headers().set(HttpHeaderNames.RETRY_AFTER, ex.retryAfter);
    }
    finish(ex, res);
  }

  /** x-api-key or Authorization: Bearer must carry the configured key, when one is configured. */
  private boolean anthropicAuthorized(Exchange ex) {
    String key = state.settings.apiKey();
    if (key == null || key.equals(ex.apiKey) || state.requiredAuthorization.equals(ex.authorization)) {
      return true;
    }
    anthropicError(ex, 401, ex.apiKey == null && ex.authorization == null ? "x-api-key header is required"
        : "invalid x-api-key");
    return false;
  }

  /** The error type that the Anthropic API gives each status. */
  static String anthropicErrorType(int code) {
    return switch (code) {
      case 401 -> "authentication_error";
      case 402 -> "billing_error";
      case 403 -> "permission_error";
      case 404 -> "not_found_error";
      case 413 -> "request_too_large";
      case 429 -> "rate_limit_error";
      case 504 -> "timeout_error";
      case 529 -> "overloaded_error";
      default -> code >= 500 ? "api_error" : "invalid_request_error";
    };
  }

  private void anthropicError(Exchange ex, int code, String message) {
    String requestId = "req_mock_" + state.nextId();
    DefaultFullHttpResponse res = response(ex, HttpResponseStatus.valueOf(code),
        Json.anthropicError(anthropicErrorType(code), message, requestId));
    res.headers().set(REQUEST_ID, requestId);
    rateLimitHeaders(res, code == 429);
    if (code == 429) {
      res.headers().set(HttpHeaderNames.RETRY_AFTER, ex.retryAfter);
    }
    finish(ex, res);
  }

  private DefaultFullHttpResponse anthropicResponse(Exchange ex, HttpResponseStatus status, String body, String summary) {
    DefaultFullHttpResponse res = response(ex, status, body);
    res.headers().set(REQUEST_ID, "req_mock_" + state.nextId()).set(REQUEST_SUMMARY, summary);
    rateLimitHeaders(res, false);
    return res;
  }

  /**
   * The API's {@code anthropic-ratelimit-*} headers, so that a gateway's handling of them (read for
   * health, not passed to its clients) can be tested: fixed limits, nothing remaining on a 429, and a
   * reset a minute ahead in RFC 3339.
   */
  private static void rateLimitHeaders(HttpResponse res, boolean limited) {
    String reset = java.time.Instant.now().plusSeconds(60).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    res.headers()
        .set("anthropic-ratelimit-requests-limit", RATE_LIMIT_REQUESTS)
        .set("anthropic-ratelimit-requests-remaining", limited ? 0 : RATE_LIMIT_REQUESTS - 1)
        .set("anthropic-ratelimit-requests-reset", reset)
        .set("anthropic-ratelimit-tokens-limit", RATE_LIMIT_TOKENS)
        .set("anthropic-ratelimit-tokens-remaining", limited ? 0 : RATE_LIMIT_TOKENS)
        .set("anthropic-ratelimit-tokens-reset", reset);
  }

  /** An error in the envelope of the path's API: Anthropic's under /v1/messages, Google's on a Gemini path, else OpenAI's. */
  private void anyError(Exchange ex, int code, String message, String param, String errorCode) {
    if (ex.gemini) {
      geminiError(ex, code, message, null);
    } else if (ex.anthropic) {
      anthropicError(ex, code, message);
    } else {
      error(ex, code, message, param, errorCode);
    }
  }

  /** Writes the next content chunks of a stream; reschedules itself while an inter-token delay applies. */
  private void streamStep(Exchange ex) {
    if (!ex.headersSent) {
      ex.headersSent = true;
      HttpResponse res = new DefaultHttpResponse(HTTP_1_1, OK);
      res.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
          .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
          .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      connectionHeader(ex, res);
      ctx.write(res);
    }
    while (current == ex) { // a failed write may have closed the connection under us
      if (ex.sent == ex.failAfter && ex.sent < ex.tokens) {
        dieMidStream(ex);
        return;
      }
      boolean completions = ex.route == Route.COMPLETIONS;
      if (ex.sent == ex.tokens) {
        ctx.write(content(completions ? CompletionsPayloads.stopEvent(ex.head) : Payloads.stopEvent(ex.head, ex.finishReason)));
        if (ex.includeUsage) {
          ctx.write(content(completions ? CompletionsPayloads.usageEvent(ex.head, ex.promptTokens, ex.completionTokens)
              : Payloads.usageEvent(ex.head, ex.promptTokens, ex.completionTokens)));
        }
        finish(ex, new DefaultLastHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), Payloads.DONE_EVENT)));
        return;
      }
      ctx.writeAndFlush(content(completions ? CompletionsPayloads.contentEvent(ex.head)
          : ex.sent < ex.textTokens ? Payloads.contentEvent(ex.head, ex.sent == 0)
          : Payloads.toolCallEvent(ex.head, ex.tool, ex.toolId, ex.sent - ex.textTokens, ex.sent == 0)));
      ex.sent++;
      if (ex.interTokenMs > 0 && ex.sent < ex.tokens) {
        later(ex, ex.interTokenMs, () -> streamStep(ex));
        return;
      }
    }
  }

  /** fail_after_tokens: close the connection once what was sent is on the wire, without ending the stream. */
  private void dieMidStream(Exchange ex) {
    current = null; // neither completed nor cancelled by the client
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
      ex.leave();
      ctx.close();
    });
  }

  private DefaultHttpContent content(String event) {
    return new DefaultHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), event));
  }

  private boolean authorized(Exchange ex) {
    String required = state.requiredAuthorization;
    if (ex.azure != null) {
      return azureAuthorized(ex);
    }
    if (required == null || required.equals(ex.authorization)) {
      return true;
    }
    error(ex, 401, ex.authorization == null
        ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth."
        : "Incorrect API key provided.", null, "invalid_api_key");
    return false;
  }

  private void error(Exchange ex, int code, String message, String param, String errorCode) {
    String type = code == 429 ? "requests" : code >= 500 ? "server_error" : "invalid_request_error";
    if (errorCode == null && code == 429) {
      errorCode = "rate_limit_exceeded";
    }
    DefaultFullHttpResponse res = response(ex, HttpResponseStatus.valueOf(code), Json.error(message, type, param, errorCode));
    if (code == 429) {
      res.headers().set(HttpHeaderNames.RETRY_AFTER, ex.retryAfter);
    }
    finish(ex, res);
  }

  private void json(Exchange ex, HttpResponseStatus status, String body) {
    finish(ex, response(ex, status, body));
  }

  private DefaultFullHttpResponse response(Exchange ex, HttpResponseStatus status, String body) {
    DefaultFullHttpResponse res = new DefaultFullHttpResponse(HTTP_1_1, status, ByteBufUtil.writeUtf8(ctx.alloc(), body));
    res.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
    connectionHeader(ex, res);
    return res;
  }

  private static void connectionHeader(Exchange ex, HttpResponse res) {
    if (!ex.keepAlive) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (ex.http10) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
  }

  /** Writes the last part of a response, then moves on to the next pipelined request, if any. */
  private void finish(Exchange ex, HttpObject last) {
    current = null;
    ChannelFuture f = ctx.writeAndFlush(last);
    if (ex.inference) {
      f.addListener(done -> {
        ex.leave();
        if (ex.stream) {
          if (done.isSuccess()) {
            state.stats.streamCompleted();
          } else {
            state.stats.streamCancelled();
          }
        }
      });
    }
    if (!ex.keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    } else if (!pending.isEmpty()) {
      start(pending.poll());
    }
  }

  /** Runs {@code task} now, or after {@code delayMs} on this connection's event loop unless the client left. */
  private void later(Exchange ex, long delayMs, Runnable task) {
    if (delayMs <= 0) {
      task.run();
      return;
    }
    ex.timer = ctx.executor().schedule(() -> {
      ex.timer = null;
      if (current == ex) {
        task.run();
      }
    }, delayMs, MILLISECONDS);
  }

  private static long pick(long override, long fallback) {
    return override >= 0 ? override : fallback;
  }
}
