package io.sluice.node.provider;

import io.netty.channel.pool.FixedChannelPool;
import io.sluice.node.routing.Deployment;

/** One deployment's connections: where they go, and the pool of them. */
record UpstreamPool(Deployment deployment, String hostHeader, FixedChannelPool channels) {}
