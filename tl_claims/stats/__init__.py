"""Statistics: intervals over seeds and images, the rules that turn an interval into a verdict, sequential looks,
and the simulation that tests them."""
