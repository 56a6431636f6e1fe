//! Where the worker delivers: any [`Sink`], or PostHog, which renders captures straight into
//! what posthog-rs sends (no [`WireEvent`](crate::wire::WireEvent) in between, measured with
//! `cargo bench -p telemetry-tests --bench e2e`).

#[cfg(feature = "posthog")]
use crate::sink::PostHogSink;
use crate::sink::Sink;

/// The worker's sink.
pub(crate) enum Destination {
    /// A sink that takes rendered [`WireEvent`](crate::wire::WireEvent)s.
    Sink(Box<dyn Sink>),
    /// PostHog: user events rendered on its lanes; spooled batches and lifecycle pings go
    /// through its [`Sink`] side.
    #[cfg(feature = "posthog")]
    PostHog(Box<PostHogSink>),
}

impl Destination {
    /// The destination as a [`Sink`] of wire events.
    pub(crate) fn sink(&mut self) -> &mut dyn Sink {
        match self {
            Destination::Sink(sink) => sink.as_mut(),
            #[cfg(feature = "posthog")]
            Destination::PostHog(sink) => sink.as_mut(),
        }
    }

    /// [`Sink::kind`].
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Destination::Sink(sink) => sink.kind(),
            #[cfg(feature = "posthog")]
            Destination::PostHog(sink) => sink.kind(),
        }
    }

    /// [`Sink::lanes`].
    pub(crate) fn lanes(&self) -> usize {
        match self {
            Destination::Sink(sink) => sink.lanes(),
            #[cfg(feature = "posthog")]
            Destination::PostHog(sink) => sink.lanes(),
        }
    }
}
