"""A scenario a person can follow: a directory of people, their consent (given, refused,
withdrawn, and a manager's rejected attempt), a campaign drafted, approved by a second
person, scheduled and published, shares across networks, clicks through the real
redirect, engagement from a simulated connector, then the figures."""
