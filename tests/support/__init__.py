"""What the tests share besides fixtures: settings, deployments, browsers, databases."""
