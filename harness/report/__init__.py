"""Tables, plots and the HTML report, read from the results store only."""
