package io.sluice.bench.load;

import static io.sluice.bench.load.LoadWire.fmt;
import static io.sluice.bench.load.LoadWire.kv;
import static io.sluice.bench.load.LoadWire.ms;
import static io.sluice.bench.load.LoadWire.port;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * A paced load on a fixed set of keep-alive connections, each with its own even schedule, and a
 * sequential probe connection beside it: the outside rig of issue 21 (wrk with a Lua script that
 * paces every thread's sends into even slots), with latency recorded per connection.
 *
 * <p>Why not {@link OpenLoop}: that one sends each due request on whichever connection is idle, so
 * a connection the server stalls on simply stops being used and its stall is hidden by the others.
 * Here request {@code i} is due at {@code t0 + i / rate} and belongs to connection {@code i mod N},
 * so every connection gets every N-th slot (one request each {@code N / rate} seconds, the slots of
 * the connections interleaved) whatever the server does with it. A request due while its
 * connection still waits for the previous answer goes out when that answer comes; its latency is
 * counted from its due time (no coordinated omission), so a stall on one connection shows up in
 * that connection's latency, and in the worst connection's p99 and max.
 *
 * <p>The probe is one more connection that sends one request, waits for the answer, waits
 * {@code --probe-interval-ms}, and sends the next: a single sequential client beside the load, its
 * latency from the send. Only the measured phase is recorded, for the load and the probe; the
 * warm-up runs the same schedule just before it, with no gap.
 *
 * <p>One Netty event loop owns every connection and histogram; a pacer thread wakes it at every
 * slot. Prints one {@code PACED key=value ...} line; {@code --conn-out FILE} writes one line per
 * connection (its count, p50, p99, max).
 *
 * <pre>
 * java -cp ops/bench-jmh/target/benchmarks.jar io.sluice.bench.load.PacedLoad \
 *   --url http://127.0.0.1:8080/v1/chat/completions --rate 1000 --warmup 45 --duration 20 \
 *   --connections 64 --body ops/bench-lib/chat-request.json --key sk-sluice.bench.xxx
 * </pre>
 */
public final class PacedLoad {
  static final String USAGE = """
      usage: PacedLoad --url URL --rate R --body FILE [--duration S] [--warmup S] [--connections N]
                       [--key K | --keys FILE] [--probe-interval-ms MS] [--drain S] [--conn-out FILE]
        --url                http://host:port/path to POST the body to
        --rate               aggregate requests per second over all connections
        --body               file with the request body (sent as application/json)
        --duration           measured seconds (default 20)
        --warmup             seconds at the same rate and schedule before, not recorded (default 5)
        --connections        keep-alive connections; connection k sends requests k, k+N, ... (default 64)
        --key, --keys        bearer key(s); request i uses key i mod n (default "none")
        --probe-interval-ms  the probe's pause between its answer and its next request; 0: no probe (default 20)
        --drain              seconds to wait for answers after the schedule ends (default 10)
        --conn-out           writes one line per connection: conn count p50_ms p99_ms max_ms
      Prints: PACED rate achieved_rps count errors timeouts p50_ms p90_ms p99_ms p999_ms max_ms
      (from the due time) svc_* (from the send) conn_worst_p99_ms conn_worst_max_ms conn_median_p99_ms
      conns_max_over_50ms probe_n probe_p50_ms probe_p99_ms probe_max_ms (the probe, from its send).""";
  private static final AttributeKey<Conn> CONN = AttributeKey.valueOf("paced-conn");
  private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(120);

  /** Settings of a run. */
  record Options(URI url, int rate, double durationS, double warmupS, int connections, byte[] body,
      List<String> keys, long probeIntervalMs, double drainS, Path connOut) {}

  /** The result of a run: overall, per connection, and the probe's. */
  record Result(int rate, double spanS, long count, long errors, long timeouts, Histogram latency,
      Histogram service, List<Histogram> perConnection, Histogram probe) {

    String line() {
      StringBuilder sb = new StringBuilder("PACED");
      kv(sb, "rate", Integer.toString(rate));
      kv(sb, "achieved_rps", fmt(spanS > 0 ? count / spanS : 0, 1));
      kv(sb, "count", Long.toString(count));
      kv(sb, "errors", Long.toString(errors));
      kv(sb, "timeouts", Long.toString(timeouts));
      kv(sb, "connections", Integer.toString(perConnection.size()));
      if (latency.getTotalCount() > 0) {
        kv(sb, "p50_ms", ms(latency.getValueAtPercentile(50)));
        kv(sb, "p90_ms", ms(latency.getValueAtPercentile(90)));
        kv(sb, "p99_ms", ms(latency.getValueAtPercentile(99)));
        kv(sb, "p999_ms", ms(latency.getValueAtPercentile(99.9)));
        kv(sb, "max_ms", ms(latency.getMaxValue()));
      }
      if (service.getTotalCount() > 0) {
        kv(sb, "svc_p99_ms", ms(service.getValueAtPercentile(99)));
        kv(sb, "svc_max_ms", ms(service.getMaxValue()));
      }
      long[] p99 = perConnection.stream().filter(h -> h.getTotalCount() > 0)
          .mapToLong(h -> h.getValueAtPercentile(99)).sorted().toArray();
      if (p99.length > 0) {
        kv(sb, "conn_worst_p99_ms", ms(p99[p99.length - 1]));
        kv(sb, "conn_median_p99_ms", ms(p99[p99.length / 2]));
        kv(sb, "conn_worst_max_ms", ms(perConnection.stream().mapToLong(Histogram::getMaxValue).max().orElse(0)));
        kv(sb, "conns_max_over_50ms", Long.toString(perConnection.stream()
            .filter(h -> h.getMaxValue() > TimeUnit.MILLISECONDS.toNanos(50)).count()));
      }
      kv(sb, "probe_n", Long.toString(probe.getTotalCount()));
      if (probe.getTotalCount() > 0) {
        kv(sb, "probe_p50_ms", ms(probe.getValueAtPercentile(50)));
        kv(sb, "probe_p99_ms", ms(probe.getValueAtPercentile(99)));
        kv(sb, "probe_max_ms", ms(probe.getMaxValue()));
      }
      return sb.toString();
    }

    /** One line per connection, for --conn-out. */
    String perConnectionTable() {
      StringBuilder sb = new StringBuilder("conn\tcount\tp50_ms\tp99_ms\tmax_ms\n");
      for (int k = 0; k < perConnection.size(); k++) {
        Histogram h = perConnection.get(k);
        sb.append(k).append('\t').append(h.getTotalCount()).append('\t')
            .append(ms(h.getTotalCount() > 0 ? h.getValueAtPercentile(50) : 0)).append('\t')
            .append(ms(h.getTotalCount() > 0 ? h.getValueAtPercentile(99) : 0)).append('\t')
            .append(ms(h.getMaxValue())).append('\n');
      }
      return sb.toString();
    }

  }

  /**
   * One keep-alive connection. A load connection k sends the requests k, k+N, k+2N, ... in order;
   * {@code next} is the index of the next one it has not sent. At most one request is in flight.
   */
  private static final class Conn {
    final int id;
    final boolean probe;
    Channel channel;
    boolean busy;
    boolean open = true;
    long next;
    long index;
    long dueAt;
    long sentAt;
    Histogram latency;

    Conn(int id, boolean probe) {
      this.id = id;
      this.probe = probe;
    }
  }

  private final Options options;
  private final NioEventLoopGroup group;
  private final EventLoop loop;
  private final ByteBuf[] requests;

  // Everything below is touched only on the event loop.
  private final List<Conn> conns = new ArrayList<>();
  private Conn probe;
  private final Runnable dispatch = this::dispatch;
  private long t0;
  private long intervalNanos;
  private long warmupCount;
  private long total;
  private long measuredFrom;
  private long measuredUntil;
  private long completed;
  private long lastDone;
  private long errors;
  private long probeSent;
  private final Histogram latency = new Histogram(HIGHEST_NANOS, 3);
  private final Histogram service = new Histogram(HIGHEST_NANOS, 3);
  private final Histogram probeLatency = new Histogram(HIGHEST_NANOS, 3);
  private volatile boolean closing;

  PacedLoad(Options options) {
    this.options = options;
    this.group = new NioEventLoopGroup(1, new DefaultThreadFactory("paced", true));
    this.loop = group.next();
    this.requests = LoadWire.requests(options.url(), options.keys(), options.body());
  }

  /** Opens the load connections and the probe's; fails if any cannot be opened. */
  void connect() throws InterruptedException {
    Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpResponseDecoder(), new HttpObjectAggregator(64 * 1024 * 1024), new Handler());
          }
        });
    int n = options.connections() + (options.probeIntervalMs() > 0 ? 1 : 0);
    for (int i = 0; i < n; i++) {
      boolean isProbe = i == options.connections();
      Conn c = new Conn(i, isProbe);
      c.latency = new Histogram(HIGHEST_NANOS, 3);
      c.next = isProbe ? 0 : i;
      c.channel = b.connect(options.url().getHost(), port(options.url())).sync().channel();
      c.channel.attr(CONN).set(c);
      loop.submit(() -> {
        if (isProbe) {
          probe = c;
        } else {
          conns.add(c);
        }
      }).sync();
    }
  }

  /** Runs the warm-up and then the measured phase on one schedule, then waits for stragglers. */
  Result run() throws InterruptedException {
    int rate = options.rate();
    long interval = Math.max(1, 1_000_000_000L / rate);
    long warm = Math.round(options.warmupS() * rate);
    long measured = Math.max(1, Math.round(options.durationS() * rate));
    long start = System.nanoTime() + 1_000_000;
    loop.submit(() -> {
      intervalNanos = interval;
      warmupCount = warm;
      total = warm + measured;
      measuredFrom = start + warm * interval;
      measuredUntil = start + total * interval;
      t0 = start;
    }).sync();
    long end = start + (warm + measured) * interval;
    while (true) {
      long now = System.nanoTime();
      loop.execute(dispatch);
      if (now >= end) {
        break;
      }
      long due = now < start ? start : start + ((now - start) / interval + 1) * interval;
      LockSupport.parkNanos(Math.max(1_000, due - now));
    }
    long drainUntil = System.nanoTime() + (long) (options.drainS() * 1e9);
    while (System.nanoTime() < drainUntil) {
      boolean done = loop.submit(() -> conns.stream().allMatch(c -> !c.open || (!c.busy && c.next >= total))).sync().getNow();
      if (done) {
        break;
      }
      loop.execute(dispatch);
      Thread.sleep(5);
    }
    return loop.submit(() -> {
      long now = System.nanoTime();
      long timeouts = 0;
      // Requests never sent or never answered: charged until now, as a waiting client would be.
      for (Conn c : conns) {
        if (c.busy && c.index >= warmupCount) {
          record(c, now - c.dueAt);
          timeouts++;
        }
        for (long i = Math.max(c.next, firstOwnAtOrAfter(c, warmupCount)); i < total; i += conns.size()) {
          record(c, now - (t0 + i * intervalNanos));
          timeouts++;
        }
      }
      double spanS = lastDone > measuredFrom ? (lastDone - measuredFrom) / 1e9 : 0;
      List<Histogram> per = new ArrayList<>();
      for (Conn c : conns) {
        per.add(c.latency.copy());
      }
      return new Result(rate, spanS, completed, errors, timeouts, latency.copy(), service.copy(), per,
          probeLatency.copy());
    }).sync().getNow();
  }

  /** The first index at or after {@code from} that belongs to connection {@code c}. */
  private long firstOwnAtOrAfter(Conn c, long from) {
    long n = conns.size();
    long r = Math.floorMod(c.id - from, n);
    return from + r;
  }

  private void record(Conn c, long nanos) {
    long v = Math.min(HIGHEST_NANOS, Math.max(0, nanos));
    latency.recordValue(v);
    c.latency.recordValue(v);
  }

  /** On the loop: every idle load connection whose next request is due sends it; so does the probe. */
  private void dispatch() {
    long now = System.nanoTime();
    if (now < t0) {
      return;
    }
    long due = Math.min(total, (now - t0) / intervalNanos + 1);
    for (int k = 0; k < conns.size(); k++) {
      Conn c = conns.get(k);
      if (!c.busy && c.open && c.next < due) {
        send(c, c.next, t0 + c.next * intervalNanos);
        c.next += conns.size();
      }
    }
    if (probe != null && probe.open && !probe.busy && now >= probe.dueAt && now < measuredUntil) {
      send(probe, probeSent++, now);
    }
  }

  private void send(Conn c, long index, long dueAt) {
    c.busy = true;
    c.index = index;
    c.dueAt = dueAt;
    c.sentAt = System.nanoTime();
    ByteBuf req = requests[(int) (Math.floorMod(index, requests.length))];
    c.channel.writeAndFlush(req.duplicate(), c.channel.voidPromise());
  }

  private void complete(Conn c, FullHttpResponse response) {
    long now = System.nanoTime();
    if (!c.busy) {
      return; // an answer nobody asked for
    }
    c.busy = false;
    int status = response.status().code();
    if (c.probe) {
      if (c.sentAt >= measuredFrom) {
        probeLatency.recordValue(Math.min(HIGHEST_NANOS, now - c.sentAt));
        if (status < 200 || status >= 300) {
          errors++;
        }
      }
      c.dueAt = now + TimeUnit.MILLISECONDS.toNanos(options.probeIntervalMs());
      loop.schedule(dispatch, options.probeIntervalMs(), TimeUnit.MILLISECONDS);
      return;
    }
    if (c.index >= warmupCount) {
      completed++;
      lastDone = now;
      if (status < 200 || status >= 300) {
        errors++;
      }
      record(c, now - c.dueAt);
      service.recordValue(Math.min(HIGHEST_NANOS, now - c.sentAt));
    }
    dispatch();
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpResponse> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      complete(ctx.channel().attr(CONN).get(), response);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      Conn c = ctx.channel().attr(CONN).get();
      if (c != null && c.open) {
        c.open = false;
        // Its outstanding and unsent requests are charged as timeouts when the run ends.
        if (!closing) {
          System.err.println("paced: connection " + c.id + " closed");
        }
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  void close() {
    closing = true;
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  static Options parse(String[] args) throws IOException {
    URI url = null;
    int rate = 0;
    double duration = 20;
    double warmup = 5;
    int connections = 64;
    byte[] body = null;
    List<String> keys = new ArrayList<>();
    long probeMs = 20;
    double drain = 10;
    Path connOut = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value for " + flag);
      }
      String v = args[++i];
      switch (flag) {
        case "--url" -> url = URI.create(v);
        case "--rate" -> rate = Integer.parseInt(v);
        case "--duration" -> duration = Double.parseDouble(v);
        case "--warmup" -> warmup = Double.parseDouble(v);
        case "--connections" -> connections = Integer.parseInt(v);
        case "--body" -> body = Files.readAllBytes(Path.of(v));
        case "--key" -> keys.add(v);
        case "--keys" -> {
          for (String line : Files.readAllLines(Path.of(v))) {
            if (!line.isBlank()) {
              keys.add(line.trim());
            }
          }
        }
        case "--probe-interval-ms" -> probeMs = Long.parseLong(v);
        case "--drain" -> drain = Double.parseDouble(v);
        case "--conn-out" -> connOut = Path.of(v);
        default -> throw new IllegalArgumentException("unknown flag " + flag);
      }
    }
    if (url == null || body == null || rate == 0) {
      throw new IllegalArgumentException("--url, --body and --rate are required");
    }
    if (!"http".equals(url.getScheme())) {
      throw new IllegalArgumentException("only http:// URLs");
    }
    if (rate < 1 || rate > 1_000_000) {
      throw new IllegalArgumentException("rate must be in [1, 1000000]: " + rate);
    }
    if (duration <= 0 || duration > 3600 || warmup < 0 || warmup > 3600 || drain < 0 || drain > 600) {
      throw new IllegalArgumentException("duration must be in (0, 3600] s, warmup in [0, 3600] s, drain in [0, 600] s");
    }
    if (connections < 1 || connections > 10_000) {
      throw new IllegalArgumentException("connections must be in [1, 10000]");
    }
    if (probeMs < 0 || probeMs > 60_000) {
      throw new IllegalArgumentException("probe-interval-ms must be in [0, 60000]");
    }
    if (keys.isEmpty()) {
      keys.add("none");
    }
    return new Options(url, rate, duration, warmup, connections, body, List.copyOf(keys), probeMs, drain, connOut);
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println(USAGE);
      return;
    }
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("paced: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    PacedLoad gen = new PacedLoad(options);
    try {
      gen.connect();
      Result r = gen.run();
      System.out.println(r.line());
      System.out.flush();
      if (options.connOut() != null) {
        Files.writeString(options.connOut(), r.perConnectionTable(), StandardCharsets.UTF_8);
      }
    } finally {
      gen.close();
    }
  }
}
