"""A scenario a person can follow: a directory of people from HR, each of whom signs in at
the identity provider and acts over the services' HTTP APIs — their consent (given,
refused, withdrawn), their feed and shares — while a manager's attempts to decide for
someone are refused (on Kafka and over HTTP); a campaign drafted by an editor, refused to
its author's own approval, approved by a second person, scheduled and published; clicks
through the real redirect, engagement from a simulated connector, then the analyst's
report and the figures."""
