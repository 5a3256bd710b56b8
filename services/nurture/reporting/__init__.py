"""What nurture answers about itself: enrollments with their history, and figures per track."""
