"""From stored runs to a decision: decide, the decision's documents, recommend, advise."""
