"""Attribution: line items, canonical models, exact allocation, honest zeros."""
